//! The statuses outbox alerts, alert deliveries and replies move through, as their rows store
//! them. The SQL binds `as_str()`; no query spells these words itself.

/// An enum of stored status words: the variants, `ALL`, `as_str` and `parse`.
macro_rules! stored_status {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every status, in the order declared.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The word the rows store.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }

            /// The status a stored word names; `None` for any other word.
            pub fn parse(word: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|status| status.as_str() == word)
            }
        }
    };
}

stored_status! {
    /// Where an alert in the outbox is.
    OutboxStatus {
        /// Waiting for routing to decide its channels (the column's default).
        Pending = "pending",
        /// Fanned out to its deliveries.
        Routed = "routed",
    }
}

stored_status! {
    /// Where one delivery of an alert to one channel is.
    DeliveryStatus {
        /// Due at its next attempt (or leased until then by a claim); the column's default.
        Pending = "pending",
        /// Routed during the channel's quiet hours: waits for the digest until the hold ends.
        Held = "held",
        /// The platform accepted it.
        Sent = "sent",
        /// Given up on.
        Dead = "dead",
        /// Carried by a quiet-hours digest instead of going out alone.
        Digested = "digested",
    }
}

stored_status! {
    /// Where a reply sent from earshot is.
    ReplyStatus {
        /// Waiting for the reply worker (at most one per task: a partial unique index).
        Queued = "queued",
        /// The platform accepted it.
        Sent = "sent",
        /// Given up on until an agent retries it.
        Failed = "failed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_word() {
        for status in OutboxStatus::ALL {
            assert_eq!(OutboxStatus::parse(status.as_str()), Some(*status));
        }
        for status in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(status.as_str()), Some(*status));
        }
        for status in ReplyStatus::ALL {
            assert_eq!(ReplyStatus::parse(status.as_str()), Some(*status));
        }
        assert_eq!(DeliveryStatus::parse("Pending"), None, "words are lower case");
        assert_eq!(ReplyStatus::parse("routed"), None);
    }

    /// The migrations have no CHECK constraints on these columns; what they do fix is each
    /// column's default and the partial index of queued replies, in both dialects.
    #[test]
    fn the_migrations_defaults_and_indexes_use_the_enums_words() {
        let outbox_and_deliveries = [
            include_str!("../../migrations/sqlite/0001_init.sql"),
            include_str!("../../migrations/postgres/0001_init.sql"),
            include_str!("../../migrations/sqlite/0003_alert_deliveries.sql"),
            include_str!("../../migrations/postgres/0003_alert_deliveries.sql"),
        ];
        let default_of = |sql: &str, table: &str| -> String {
            let create = &sql[sql.find(&format!("CREATE TABLE {table} (")).expect(table)..];
            let create = &create[..create.find(");").expect("end of table")];
            let line = create
                .lines()
                .find(|line| line.trim_start().starts_with("status "))
                .expect("status column");
            line.split("DEFAULT '")
                .nth(1)
                .expect("default")
                .split('\'')
                .next()
                .unwrap()
                .to_owned()
        };
        for sql in &outbox_and_deliveries[..2] {
            assert_eq!(default_of(sql, "alert_outbox"), OutboxStatus::Pending.as_str());
        }
        for sql in &outbox_and_deliveries[2..] {
            assert_eq!(default_of(sql, "alert_deliveries"), DeliveryStatus::Pending.as_str());
        }
        for sql in [
            include_str!("../../migrations/sqlite/0018_replies.sql"),
            include_str!("../../migrations/postgres/0018_replies.sql"),
        ] {
            let index = sql
                .lines()
                .find(|line| line.contains("replies_one_queued_per_task"))
                .expect("partial index");
            assert!(
                index.ends_with(&format!("WHERE status = '{}';", ReplyStatus::Queued.as_str())),
                "{index}"
            );
        }
    }
}
