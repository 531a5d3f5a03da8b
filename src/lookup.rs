//! What the admin asked for: one customer, by one kind of ID.

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
            IdKind::CustomerUserId => "customer_user_id",
            IdKind::ProfileId => "profile_id",
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
}
