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
    /// The relay's app to ask; empty when it serves only one.
    pub app: String,
}

impl Lookup {
    /// From the form: surrounding spaces are a copy-and-paste accident, not
    /// part of the ID. `check` says what else is wrong, the relay the rest.
    pub fn from_input(kind: IdKind, text: &str) -> Option<Lookup> {
        let id = text.trim();
        (!id.is_empty()).then(|| Lookup {
            kind,
            id: id.to_owned(),
            app: String::new(),
        })
    }

    /// From the page's own URL (`?app=main&customer_user_id=` or
    /// `?profile_id=`), so a shared link reproduces the lookup. The customer
    /// user ID wins if a hand-made link carries both.
    pub fn from_url(
        app: Option<String>,
        customer_user_id: Option<String>,
        profile_id: Option<String>,
    ) -> Option<Lookup> {
        let lookup = customer_user_id
            .and_then(|id| Lookup::from_input(IdKind::CustomerUserId, &id))
            .or_else(|| profile_id.and_then(|id| Lookup::from_input(IdKind::ProfileId, &id)))?;
        Some(Lookup {
            app: app.unwrap_or_default(),
            ..lookup
        })
    }
}

impl Lookup {
    /// What the panel can tell is wrong before asking: a profile ID that is
    /// not a UUID, or a customer user ID with characters Adapty cannot be
    /// asked about (the relay refuses them too, in words for API clients).
    /// The answer is a sentence for a support agent.
    pub fn check(&self) -> Result<(), String> {
        let invisible = invisible_characters(&self.id);
        if let Some(last) = invisible.last() {
            let named = match &invisible[..] {
                [one] => format!("an invisible character, {one}"),
                [first @ .., _] => format!("invisible characters, {} and {last}", first.join(", ")),
                [] => String::new(),
            };
            return Err(format!(
                "This ID contains {named}, which cannot be seen but would be looked up with \
                 it (it usually comes with copying and pasting). Look up the ID without {}",
                if invisible.len() == 1 { "it" } else { "them" }
            ));
        }
        match self.kind {
            IdKind::ProfileId if !is_uuid(&self.id) => Err(format!(
                "A profile ID is 32 letters and digits in five groups, such as \
                 {EXAMPLE_PROFILE_ID}{}",
                email_hint(&self.id)
            )),
            IdKind::CustomerUserId => match self.id.chars().find(|c| !c.is_ascii()) {
                Some(letter) => Err(format!(
                    "This ID contains \"{letter}\", and the panel can only look up IDs written \
                     with unaccented letters, digits and common symbols. Look the customer up by \
                     their profile ID instead{}",
                    email_hint(&self.id)
                )),
                None => Ok(()),
            },
            IdKind::ProfileId => Ok(()),
        }
    }

    /// The same lookup without the ID's invisible characters, when it had
    /// some and what is left can be asked.
    pub fn without_invisible(&self) -> Option<Lookup> {
        if invisible_characters(&self.id).is_empty() {
            return None;
        }
        let id: String = self.id.chars().filter(|&c| !is_invisible(c)).collect();
        let cleaned = Lookup::from_input(self.kind, &id).map(|lookup| Lookup {
            app: self.app.clone(),
            ..lookup
        })?;
        cleaned.check().is_ok().then_some(cleaned)
    }

    /// A lookup of this tab's `recent` ones (which found someone) whose ID
    /// differs from this one's only by letter case.
    pub fn same_but_case(&self, recent: &[Lookup]) -> Option<Lookup> {
        recent
            .iter()
            .find(|known| {
                known.kind == self.kind
                    && known.app == self.app
                    && known.id != self.id
                    && known.id.eq_ignore_ascii_case(&self.id)
            })
            .cloned()
    }

    /// The same ID read as the other kind, when that reading can be asked.
    pub fn as_other(&self) -> Option<Lookup> {
        let other = Lookup {
            kind: self.kind.other(),
            ..self.clone()
        };
        other.check().is_ok().then_some(other)
    }
}

/// A character that shows nothing: a zero-width, bidirectional, control
/// or other format character, or white space other than a plain space (the
/// reason's own table, `protocol::reason::is_visible`).
fn is_invisible(character: char) -> bool {
    character != ' ' && !protocol::reason::is_visible(character)
}

/// The invisible characters of `id`, each once, as `U+200B`.
pub fn invisible_characters(id: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for character in id.chars().filter(|&c| is_invisible(c)) {
        let named = format!("U+{:04X}", u32::from(character));
        if !found.contains(&named) {
            found.push(named);
        }
    }
    found
}

pub const EXAMPLE_PROFILE_ID: &str = "d8533a10-bcce-4e33-8c9d-88b05ac56559";

/// The usual hyphenated form, 8-4-4-4-12 hexadecimal digits, as Adapty
/// shows it and as the relay accepts it.
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(at, c)| match at {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Where README explains search and Adapty's events.
pub const README_SEARCH: &str = "README, section \u{201c}Search and Adapty's events\u{201d}";

/// The form's choice that searches the relay's store, when it keeps one.
pub const SEARCH_CHOICE: &str = "Email, transaction ID or ID";

/// Added to what is said about an ID with `@` when the relay keeps no
/// store (with one, an email is searched): some apps use emails as
/// customer user IDs, but nothing else finds a customer by email.
pub fn email_hint(id: &str) -> String {
    if id.contains('@') {
        format!(
            ". The panel cannot search by email here: this relay keeps no record of Adapty's \
             events ({README_SEARCH}). An email finds a customer only if the app uses emails \
             as its customer user IDs. Find the customer user ID or the profile ID in Adapty's \
             dashboard (Profiles) or in the app's own account screen, and look up that"
        )
    } else {
        String::new()
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

/// One lookup a line, `app<TAB>profile_id<TAB>the-id` (the app empty with
/// one app): the ID is the rest of its line, so nothing needs escaping. Far lighter in the wasm than JSON's
/// serializer. An ID with a line break (never typed, only hand-made in a
/// URL) is not remembered.
pub fn encode_recent(recent: &[Lookup]) -> String {
    recent
        .iter()
        .filter(|lookup| !lookup.id.contains(['\n', '\r']))
        .map(|lookup| format!("{}\t{}\t{}\n", lookup.app, lookup.kind.param(), lookup.id))
        .collect()
}

/// Whatever is stored, never a failure: unreadable lines are dropped.
pub fn decode_recent(stored: &str) -> Vec<Lookup> {
    stored
        .lines()
        .filter_map(|line| {
            let (app, line) = line.split_once('\t')?;
            let (param, id) = line.split_once('\t')?;
            let lookup = Lookup::from_input(IdKind::from_param(param)?, id)?;
            Some(Lookup {
                app: app.into(),
                ..lookup
            })
        })
        .take(RECENT_LIMIT)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_characters_are_named_by_code_point_and_the_id_offered_without_them() {
        let lookup = Lookup::from_input(IdKind::CustomerUserId, "demo-\u{200B}expired").unwrap();
        let why = lookup.check().unwrap_err();
        assert!(
            why.starts_with(
                "This ID contains an invisible character, U+200B, which cannot be seen"
            ),
            "{why}"
        );
        assert!(
            !why.contains("\"\u{200B}\""),
            "never shown as an empty-looking quote"
        );
        assert_eq!(
            lookup.without_invisible(),
            Some(Lookup::from_input(IdKind::CustomerUserId, "demo-expired").unwrap())
        );
        let two = Lookup::from_input(
            IdKind::ProfileId,
            "\u{FEFF}d8533a10-bcce-4e33-8c9d-88b05ac56559\u{200E}\u{FEFF}",
        )
        .unwrap();
        let why = two.check().unwrap_err();
        assert!(
            why.contains("invisible characters, U+FEFF and U+200E"),
            "{why}"
        );
        assert!(why.ends_with("without them"), "{why}");
        assert_eq!(two.without_invisible().unwrap().id, EXAMPLE_PROFILE_ID);
        // A no-break space is invisible too; a plain one is left to the relay.
        assert_eq!(invisible_characters("a\u{A0}b c"), ["U+00A0"]);
        // Nothing invisible: nothing to offer; nothing left: nothing either.
        assert_eq!(
            Lookup::from_input(IdKind::CustomerUserId, "abc")
                .unwrap()
                .without_invisible(),
            None
        );
        assert_eq!(
            Lookup::from_input(IdKind::CustomerUserId, "\u{200B}")
                .unwrap()
                .without_invisible(),
            None
        );
    }

    #[test]
    fn an_id_known_in_another_letter_case_is_found_among_the_recent_ones() {
        let lookup = |id: &str| Lookup::from_input(IdKind::CustomerUserId, id).unwrap();
        let recent = [lookup("demo-refunded"), lookup("demo-expired")];
        assert_eq!(
            lookup("DEMO-EXPIRED").same_but_case(&recent),
            Some(lookup("demo-expired"))
        );
        assert_eq!(
            lookup("demo-expired").same_but_case(&recent),
            None,
            "the same ID"
        );
        assert_eq!(lookup("demo-other").same_but_case(&recent), None);
        let other_app = Lookup {
            app: "kids".into(),
            ..lookup("DEMO-EXPIRED")
        };
        assert_eq!(
            other_app.same_but_case(&recent),
            None,
            "another app's customer"
        );
    }

    #[test]
    fn input_is_trimmed_and_empty_input_is_no_lookup() {
        assert_eq!(
            Lookup::from_input(IdKind::ProfileId, "  abc \n"),
            Some(Lookup {
                kind: IdKind::ProfileId,
                id: "abc".into(),
                app: String::new(),
            })
        );
        assert_eq!(Lookup::from_input(IdKind::CustomerUserId, "   "), None);
    }

    fn check(kind: IdKind, id: &str) -> Result<(), String> {
        Lookup::from_input(kind, id).unwrap().check()
    }

    #[test]
    fn a_profile_id_must_be_a_uuid_before_any_request() {
        assert_eq!(check(IdKind::ProfileId, EXAMPLE_PROFILE_ID), Ok(()));
        assert_eq!(
            check(IdKind::ProfileId, "D8533A10-BCCE-4E33-8C9D-88B05AC56559"),
            Ok(())
        );
        for wrong in [
            "not-a-uuid",
            "d8533a10bcce4e338c9d88b05ac56559",
            "{d8533a10-bcce-4e33-8c9d-88b05ac56559}",
            "d8533a10-bcce-4e33-8c9d-88b05ac5655g",
            "d8533a1-0bcce-4e33-8c9d-88b05ac56559",
            "d8533a10-bcce-4e33-8c9d-88b05ac5655é",
        ] {
            let message = check(IdKind::ProfileId, wrong).unwrap_err();
            assert!(
                message.starts_with(
                    "A profile ID is 32 letters and digits in five groups, such as d8533a10-"
                ),
                "{wrong}: {message}"
            );
        }
        let email = check(IdKind::ProfileId, "ann@example.com").unwrap_err();
        assert!(email.contains("cannot search by email"), "{email}");
    }

    #[test]
    fn a_non_ascii_id_gets_a_plain_sentence_and_an_email_the_hint() {
        let message = check(IdKind::CustomerUserId, "josé@example.com").unwrap_err();
        assert!(
            message.starts_with("This ID contains \"é\", and the panel can only look up IDs"),
            "{message}"
        );
        assert!(message.contains("by their profile ID instead"), "{message}");
        assert!(message.contains("cannot search by email"), "{message}");
        for jargon in ["HTTP", "header", "ASCII"] {
            assert!(!message.contains(jargon), "{message}");
        }
        let plain = check(IdKind::CustomerUserId, "Ärger-42").unwrap_err();
        assert!(plain.contains("\"Ä\""), "{plain}");
        assert!(!plain.contains("email"), "{plain}");
        assert_eq!(check(IdKind::CustomerUserId, "ann@example.com"), Ok(()));
        assert_eq!(check(IdKind::CustomerUserId, "77B14FB4 x"), Ok(()));
    }

    #[test]
    fn the_other_reading_is_offered_only_when_it_can_be_asked() {
        let email = Lookup::from_input(IdKind::CustomerUserId, "ann@example.com").unwrap();
        assert_eq!(email.as_other(), None, "an email is no profile ID");
        let uuid = Lookup::from_input(IdKind::CustomerUserId, EXAMPLE_PROFILE_ID).unwrap();
        assert_eq!(uuid.as_other().unwrap().kind, IdKind::ProfileId);
        let profile = Lookup::from_input(IdKind::ProfileId, EXAMPLE_PROFILE_ID).unwrap();
        assert_eq!(profile.as_other().unwrap().kind, IdKind::CustomerUserId);
    }

    #[test]
    fn the_url_names_the_lookup() {
        let by_profile = Lookup::from_url(None, None, Some("d8533a10".into())).unwrap();
        assert_eq!(
            (by_profile.kind, by_profile.app.as_str()),
            (IdKind::ProfileId, "")
        );
        let both = Lookup::from_url(Some("kids".into()), Some("u1".into()), Some("p1".into()));
        let both = both.unwrap();
        assert_eq!(
            (both.kind, both.app.as_str()),
            (IdKind::CustomerUserId, "kids")
        );
        assert_eq!(
            Lookup::from_url(Some("kids".into()), Some("".into()), None),
            None
        );
    }

    #[test]
    fn recent_lookups_are_newest_first_unique_and_bounded() {
        let lookup = |id: &str| Lookup::from_input(IdKind::CustomerUserId, id).unwrap();
        let mut recent = Vec::new();
        for id in ["a", "b", "a", "c"] {
            recent = remember(&recent, &lookup(id));
        }
        assert_eq!(recent, [lookup("c"), lookup("a"), lookup("b")]);
        // The same ID in another app is another customer.
        let kids_a = Lookup {
            app: "kids".into(),
            ..lookup("a")
        };
        recent = remember(&recent, &kids_a);
        assert_eq!(recent, [kids_a, lookup("c"), lookup("a"), lookup("b")]);
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
            Lookup {
                app: "kids".into(),
                ..Lookup::from_input(IdKind::CustomerUserId, "x\"y").unwrap()
            },
        ];
        assert_eq!(decode_recent(&encode_recent(&recent)), recent);
        // What an older panel stored, or anything else, is dropped line by line.
        assert!(decode_recent(r#"[["profile_id","p"]]"#).is_empty());
        assert_eq!(
            decode_recent("bogus\ta\nprofile_id\tp\n\tprofile_id\tp\n\t\tq\nprofile_id\n"),
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
