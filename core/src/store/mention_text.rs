//! The compact text form of a message's mentions, which both SQL backends
//! keep in a column beside the text (to return them with the message).

use super::Mention;

/// The column form: `user:offset:length` entries joined by `,`.
pub(crate) fn encode(mentions: &[Mention]) -> String {
    let entries: Vec<String> = mentions
        .iter()
        .map(|m| format!("{}:{}:{}", m.user_id, m.offset, m.length))
        .collect();
    entries.join(",")
}

/// Reads the column form; an entry that does not parse is skipped.
pub(crate) fn decode(column: &str) -> Vec<Mention> {
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
