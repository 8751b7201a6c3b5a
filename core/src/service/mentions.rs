//! Resolving `@username` in a message to the channel's members.

use std::collections::HashMap;

use super::CoreService;
use crate::error::CoreError;
use crate::members::Members;
use crate::mentions::candidates;
use crate::store::{Id, Mention, Store};

impl<S: Store> CoreService<S> {
    /// The members `text` mentions, in text order. A name that is no
    /// member's (or no user's) stays plain text.
    pub(super) async fn resolve_mentions(
        &self,
        text: &str,
        members: &Members,
    ) -> Result<Vec<Mention>, CoreError> {
        let mut known: HashMap<String, Option<Id>> = HashMap::new();
        let mut out = Vec::new();
        for candidate in candidates(text) {
            for form in &candidate.forms {
                let key = form.to_lowercase();
                let id = match known.get(&key) {
                    Some(id) => *id,
                    None => {
                        let user = self.store.user_by_name(form).await?;
                        let id = user.map(|u| u.id).filter(|id| members.contains(*id));
                        known.insert(key, id);
                        id
                    }
                };
                if let Some(user_id) = id {
                    out.push(Mention {
                        user_id,
                        offset: candidate.offset,
                        length: u32::try_from(form.len() + 1).unwrap_or(u32::MAX),
                    });
                    break;
                }
            }
        }
        Ok(out)
    }
}
