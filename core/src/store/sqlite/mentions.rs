//! Mentions: kept with the message as a compact column (to return them with
//! it) and as rows by mentioned user (to count a user's unread mentions).

use rusqlite::{Connection, params};

use super::queries::{backend, sql_id};
use crate::store::{Id, Mention, StoreResult};

/// The column form: `user:offset:length` entries joined by `,`.
pub fn encode(mentions: &[Mention]) -> String {
    let entries: Vec<String> = mentions
        .iter()
        .map(|m| format!("{}:{}:{}", m.user_id, m.offset, m.length))
        .collect();
    entries.join(",")
}

/// Reads the column form; an entry that does not parse is skipped.
pub fn decode(column: &str) -> Vec<Mention> {
    column
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.splitn(3, ':');
            Some(Mention {
                user_id: parts.next()?.parse().ok()?,
                offset: parts.next()?.parse().ok()?,
                length: parts.next()?.parse().ok()?,
            })
        })
        .collect()
}

/// Records who `message` mentions; the sender's mentions of themself do not count.
pub fn insert(
    conn: &Connection,
    channel: Id,
    message: Id,
    sender: Id,
    mentions: &[Mention],
) -> StoreResult<()> {
    if mentions.is_empty() {
        return Ok(());
    }
    let mut st = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO mentions (user_id, channel_id, message_id) VALUES (?1, ?2, ?3)",
        )
        .map_err(backend)?;
    for m in mentions.iter().filter(|m| m.user_id != sender) {
        st.execute(params![sql_id(m.user_id), sql_id(channel), sql_id(message)])
            .map_err(backend)?;
    }
    Ok(())
}

/// Forgets who `message` mentions.
pub fn delete(conn: &Connection, channel: Id, message: Id) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM mentions WHERE channel_id = ?1 AND message_id = ?2")
        .and_then(|mut st| st.execute(params![sql_id(channel), sql_id(message)]))
        .map(drop)
        .map_err(backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_form_round_trips_and_tolerates_damage() {
        let mentions = vec![
            Mention {
                user_id: 250575636375015424,
                offset: 0,
                length: 4,
            },
            Mention {
                user_id: 7,
                offset: 10,
                length: 33,
            },
        ];
        assert_eq!(decode(&encode(&mentions)), mentions);
        assert_eq!(decode(""), vec![]);
        assert_eq!(
            decode("1:2,x:1:1,3:4:5"),
            vec![Mention {
                user_id: 3,
                offset: 4,
                length: 5
            }]
        );
    }
}
