//! Group administration: who may remove whom, rename, hand over or delete a
//! group, and who takes over when the owner leaves.
//!
//! The owner may do everything; an admin may rename the group, remove plain
//! members and delete others' messages; a member may add members and
//! leave. When the owner leaves, the longest-standing admin becomes owner,
//! or if there is none the longest-standing member; the last one out
//! deletes the group.

use chat_proto::v1 as pb;

use super::channels::{Change, group_name};
use super::{CoreService, now_ms};
use crate::convert;
use crate::error::CoreError;
use crate::members::Members;
use crate::store::{ChannelRecord, Id, MemberRecord, MembershipChange, Role, Store};

/// Who takes over a group from `owner`: the admin who joined first, else
/// the member who joined first (ties go to the smaller id).
pub fn successor(records: &[MemberRecord], owner: Id) -> Option<Id> {
    records
        .iter()
        .filter(|m| m.user_id != owner)
        .min_by_key(|m| (m.role != Role::Admin, m.joined_at_ms, m.user_id))
        .map(|m| m.user_id)
}

/// What `actor` may do in a group.
fn rank(record: &ChannelRecord, members: &Members, user: Id) -> u8 {
    if record.owner_id == user {
        2
    } else if members.is_admin(user) {
        1
    } else {
        0
    }
}

impl<S: Store> CoreService<S> {
    /// Removes `user` from a group: themself (leaving), a plain member by an
    /// admin, anyone by the owner. An owner who leaves hands the group on.
    pub async fn remove_member(
        &self,
        actor: Id,
        channel: Id,
        user: Id,
    ) -> Result<pb::Channel, CoreError> {
        let _guard = self.membership.lock().await;
        let (mut record, members) = self.group_for_change(actor, channel).await?;
        if !members.contains(user) {
            return Ok(convert::channel(&record, &members));
        }
        if actor != user {
            let (mine, theirs) = (
                rank(&record, &members, actor),
                rank(&record, &members, user),
            );
            if mine == 0 {
                return Err(CoreError::NotChannelAdmin);
            }
            if theirs >= mine {
                return Err(CoreError::NotChannelOwner);
            }
        }
        let mut change = MembershipChange {
            remove: Some(user),
            ..Default::default()
        };
        if user == record.owner_id {
            let records = self.store.members(channel).await?;
            match successor(&records, user) {
                Some(next) => {
                    change.owner = Some(next);
                    change.roles.push((next, Role::Member));
                    record.owner_id = next;
                }
                None => {
                    drop(_guard);
                    self.delete_channel(actor, channel).await?;
                    return Ok(convert::channel(&record, &Members::default()));
                }
            }
        }
        self.store
            .update_membership(self.fence(channel)?, channel, change.clone())
            .await?;
        let members = self.members.refresh(channel).await?;
        self.presence().member_removed(channel, user);
        let out = convert::channel(&record, &members);
        let who = Change { user, actor };
        self.announce(&out, pb::ChannelChange::MemberRemoved, who, &[user])
            .await;
        if let Some(owner) = change.owner {
            let who = Change {
                user: owner,
                actor: 0,
            };
            self.announce(&out, pb::ChannelChange::OwnerChanged, who, &[])
                .await;
        }
        Ok(out)
    }

    /// Renames a group (owner or admin).
    pub async fn rename_channel(
        &self,
        actor: Id,
        channel: Id,
        name: &str,
    ) -> Result<pb::Channel, CoreError> {
        let name = group_name(name)?;
        let _guard = self.membership.lock().await;
        let (mut record, members) = self.group_for_change(actor, channel).await?;
        if rank(&record, &members, actor) == 0 {
            return Err(CoreError::NotChannelAdmin);
        }
        if record.name == name {
            return Ok(convert::channel(&record, &members));
        }
        let fence = self.fence(channel)?;
        if !self
            .store
            .rename_channel(fence, channel, name.clone())
            .await?
        {
            return Err(CoreError::ChannelNotFound);
        }
        record.name = name;
        let out = convert::channel(&record, &members);
        let who = Change { user: 0, actor };
        self.announce(&out, pb::ChannelChange::Renamed, who, &[])
            .await;
        Ok(out)
    }

    /// Makes `user` an admin or a plain member (owner only).
    pub async fn set_member_role(
        &self,
        actor: Id,
        channel: Id,
        user: Id,
        role: Role,
    ) -> Result<pb::Channel, CoreError> {
        let _guard = self.membership.lock().await;
        let (record, members) = self.group_for_change(actor, channel).await?;
        if record.owner_id != actor {
            return Err(CoreError::NotChannelOwner);
        }
        if !members.contains(user) {
            return Err(CoreError::UserNotFound);
        }
        if user == record.owner_id {
            return Err(CoreError::invalid(
                "invalid_user",
                "the owner's role cannot change; transfer ownership instead",
            ));
        }
        if members.is_admin(user) == (role == Role::Admin) {
            return Ok(convert::channel(&record, &members));
        }
        let change = MembershipChange {
            roles: vec![(user, role)],
            ..Default::default()
        };
        let fence = self.fence(channel)?;
        self.store.update_membership(fence, channel, change).await?;
        let members = self.members.refresh(channel).await?;
        let out = convert::channel(&record, &members);
        let who = Change { user, actor };
        self.announce(&out, pb::ChannelChange::RoleChanged, who, &[])
            .await;
        Ok(out)
    }

    /// Hands a group to another member (owner only); the old owner stays
    /// as an admin.
    pub async fn transfer_ownership(
        &self,
        actor: Id,
        channel: Id,
        user: Id,
    ) -> Result<pb::Channel, CoreError> {
        let _guard = self.membership.lock().await;
        let (mut record, members) = self.group_for_change(actor, channel).await?;
        if record.owner_id != actor {
            return Err(CoreError::NotChannelOwner);
        }
        if !members.contains(user) {
            return Err(CoreError::UserNotFound);
        }
        if user == actor {
            return Ok(convert::channel(&record, &members));
        }
        let change = MembershipChange {
            remove: None,
            owner: Some(user),
            roles: vec![(user, Role::Member), (actor, Role::Admin)],
        };
        let fence = self.fence(channel)?;
        self.store.update_membership(fence, channel, change).await?;
        record.owner_id = user;
        let members = self.members.refresh(channel).await?;
        let out = convert::channel(&record, &members);
        let who = Change { user, actor };
        self.announce(&out, pb::ChannelChange::OwnerChanged, who, &[])
            .await;
        Ok(out)
    }

    /// Deletes a group and everything in it (owner only); its members are
    /// told, and it can no longer be read.
    pub async fn delete_channel(&self, actor: Id, channel: Id) -> Result<(), CoreError> {
        let _guard = self.membership.lock().await;
        let (record, members) = self.group_for_change(actor, channel).await?;
        if record.owner_id != actor {
            return Err(CoreError::NotChannelOwner);
        }
        let fence = self.fence(channel)?;
        if !self.store.delete_channel(fence, channel, now_ms()).await? {
            return Err(CoreError::ChannelNotFound);
        }
        self.members.refresh(channel).await?;
        self.presence().channel_deleted(channel);
        let out = convert::channel(&record, &members);
        let who = Change { user: 0, actor };
        self.announce(&out, pb::ChannelChange::Deleted, who, &[])
            .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(user_id: Id, role: Role, joined_at_ms: i64) -> MemberRecord {
        MemberRecord {
            user_id,
            role,
            joined_at_ms,
        }
    }

    #[test]
    fn the_longest_standing_admin_takes_over_else_the_longest_standing_member() {
        let owner = 1;
        let records = [
            member(1, Role::Member, 0),
            member(2, Role::Member, 5),
            member(3, Role::Admin, 9),
            member(4, Role::Admin, 7),
            member(5, Role::Member, 1),
        ];
        assert_eq!(successor(&records, owner), Some(4));
        let no_admins = [records[0], records[1], records[4]];
        assert_eq!(successor(&no_admins, owner), Some(5));
        let tie = [
            member(1, Role::Member, 0),
            member(9, Role::Member, 3),
            member(8, Role::Member, 3),
        ];
        assert_eq!(successor(&tie, owner), Some(8));
        assert_eq!(successor(&[member(1, Role::Member, 0)], owner), None);
    }
}
