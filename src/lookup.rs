//! What the admin asked for: one customer, by one kind of ID.

use protocol::param;

/// The two ways Adapty finds a profile. Anonymous profiles have no customer
/// user ID, so only the profile ID finds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    CustomerUserId,
    ProfileId,
}

impl IdKind {
    /// The relay's query parameter, and the panel's own URL parameter.
    pub fn param(self) -> &'static str {
        match self {
            IdKind::CustomerUserId => param::CUSTOMER_USER_ID,
            IdKind::ProfileId => param::PROFILE_ID,
        }
    }

    pub fn from_param(param: &str) -> Option<IdKind> {
        match param {
            param::CUSTOMER_USER_ID => Some(IdKind::CustomerUserId),
            param::PROFILE_ID => Some(IdKind::ProfileId),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IdKind::CustomerUserId => "customer user ID",
            IdKind::ProfileId => "profile ID",
        }
    }

    pub fn other(self) -> IdKind {
        match self {
            IdKind::CustomerUserId => IdKind::ProfileId,
            IdKind::ProfileId => IdKind::CustomerUserId,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub kind: IdKind,
    pub id: String,
}

impl Lookup {
    /// From the form: surrounding spaces are a copy-and-paste accident, not
    /// part of the ID. The relay validates the rest and says what is wrong.
    pub fn from_input(kind: IdKind, text: &str) -> Option<Lookup> {
        let id = text.trim();
        (!id.is_empty()).then(|| Lookup {
            kind,
            id: id.to_owned(),
        })
    }

    /// From the page's own URL (`?customer_user_id=` or `?profile_id=`), so a
    /// shared link reproduces the lookup. The customer user ID wins if a
    /// hand-made link carries both.
    pub fn from_url(
        customer_user_id: Option<String>,
        profile_id: Option<String>,
    ) -> Option<Lookup> {
        customer_user_id
            .and_then(|id| Lookup::from_input(IdKind::CustomerUserId, &id))
            .or_else(|| profile_id.and_then(|id| Lookup::from_input(IdKind::ProfileId, &id)))
    }
}

/// How many lookups the tab remembers for quick return.
pub const RECENT_LIMIT: usize = 8;

/// The tab's recent lookups, newest first, without repeats. Kept in session
/// storage only: these are customers' identifiers, personal data that must
/// not outlive the tab.
pub fn remember(recent: &[Lookup], latest: &Lookup) -> Vec<Lookup> {
    std::iter::once(latest.clone())
        .chain(recent.iter().filter(|old| *old != latest).cloned())
        .take(RECENT_LIMIT)
        .collect()
}

/// One lookup a line, `profile_id<TAB>the-id`: the ID is the rest of its
/// line, so nothing needs escaping. Far lighter in the wasm than JSON's
/// serializer. An ID with a line break (never typed, only hand-made in a
/// URL) is not remembered.
pub fn encode_recent(recent: &[Lookup]) -> String {
    recent
        .iter()
        .filter(|lookup| !lookup.id.contains(['\n', '\r']))
        .map(|lookup| format!("{}\t{}\n", lookup.kind.param(), lookup.id))
        .collect()
}

/// Whatever is stored, never a failure: unreadable lines are dropped.
pub fn decode_recent(stored: &str) -> Vec<Lookup> {
    stored
        .lines()
        .filter_map(|line| {
            let (param, id) = line.split_once('\t')?;
            Lookup::from_input(IdKind::from_param(param)?, id)
        })
        .take(RECENT_LIMIT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_trimmed_and_empty_input_is_no_lookup() {
        assert_eq!(
            Lookup::from_input(IdKind::ProfileId, "  abc \n"),
            Some(Lookup {
                kind: IdKind::ProfileId,
                id: "abc".into()
            })
        );
        assert_eq!(Lookup::from_input(IdKind::CustomerUserId, "   "), None);
    }

    #[test]
    fn the_url_names_the_lookup() {
        let by_profile = Lookup::from_url(None, Some("d8533a10".into())).unwrap();
        assert_eq!(by_profile.kind, IdKind::ProfileId);
        let both = Lookup::from_url(Some("u1".into()), Some("p1".into())).unwrap();
        assert_eq!(both.kind, IdKind::CustomerUserId);
        assert_eq!(Lookup::from_url(Some("".into()), None), None);
    }

    #[test]
    fn recent_lookups_are_newest_first_unique_and_bounded() {
        let lookup = |id: &str| Lookup::from_input(IdKind::CustomerUserId, id).unwrap();
        let mut recent = Vec::new();
        for id in ["a", "b", "a", "c"] {
            recent = remember(&recent, &lookup(id));
        }
        assert_eq!(recent, [lookup("c"), lookup("a"), lookup("b")]);
        for n in 0..20 {
            recent = remember(&recent, &lookup(&n.to_string()));
        }
        assert_eq!(recent.len(), RECENT_LIMIT);
        assert_eq!(recent[0], lookup("19"));
    }

    #[test]
    fn recent_lookups_survive_storage_and_garbage_is_ignored() {
        let recent = vec![
            Lookup::from_input(IdKind::ProfileId, "d8533a10-bcce-4e33-8c9d-88b05ac56559").unwrap(),
            Lookup::from_input(IdKind::CustomerUserId, "x\"y").unwrap(),
        ];
        assert_eq!(decode_recent(&encode_recent(&recent)), recent);
        // What an older panel stored, or anything else, is dropped line by line.
        assert!(decode_recent(r#"[["profile_id","p"]]"#).is_empty());
        assert_eq!(
            decode_recent("bogus\ta\nprofile_id\tp\n\tq\nprofile_id\n"),
            [Lookup::from_input(IdKind::ProfileId, "p").unwrap()]
        );
        // Tabs inside an ID survive; an ID with a line break is not kept.
        let tab = Lookup::from_input(IdKind::CustomerUserId, "a\tb").unwrap();
        let line_break = Lookup::from_input(IdKind::CustomerUserId, "a\nb").unwrap();
        assert_eq!(
            decode_recent(&encode_recent(&[tab.clone(), line_break])),
            [tab]
        );
    }
}
