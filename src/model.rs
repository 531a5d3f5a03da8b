//! The Adapty profile as `GET /api/v2/server-side-api/profile/` returns it.
//!
//! The contract lives in `../shared/reference/adapty-profile-api.md`. Adapty is
//! inconsistent between versions and endpoints, so this model is lenient where
//! the sources disagree: arrays may be `null`, offers come in two spellings,
//! dates in several, and new fields appear over time. A support agent must
//! always see the profile, so nothing here fails on a value it merely does not
//! know: unknown stores, reasons or unreadable dates are kept verbatim. An
//! optional field that is `""` or only spaces is absent, as `null` is (Adapty's
//! own example sends `"store_base_plan_id": ""`), so no sentence, card, table,
//! history event or summary ever shows an empty slot for one.

use crate::environment::{self, Link, Purchase};
use chrono::{DateTime, Utc};
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// The 200 body: `{"data": Profile}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub data: Profile,
}

/// By hand, as serde's derive would read it from a map (its reading from a
/// sequence, which JSON never needs, weighed on the wasm): `data` once,
/// any other field ignored.
impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EnvelopeVisitor;
        impl<'de> Visitor<'de> for EnvelopeVisitor {
            type Value = Envelope;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("struct Envelope")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let mut data = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "data" {
                        map.next_value::<IgnoredAny>()?;
                    } else if data.is_some() {
                        return Err(de::Error::duplicate_field("data"));
                    } else {
                        data = Some(map.next_value()?);
                    }
                }
                let data = data.ok_or_else(|| de::Error::missing_field("data"))?;
                Ok(Envelope { data })
            }
        }
        deserializer.deserialize_map(EnvelopeVisitor)
    }
}

impl Envelope {
    /// Parses a response body; the error says what did not fit. Access
    /// levels without an environment get the one their purchase has
    /// (`environment::linked`).
    pub fn parse(body: &str) -> Result<Profile, serde_json::Error> {
        let mut profile = serde_json::from_str::<Envelope>(body)?.data;
        profile.link_environments();
        Ok(profile)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Profile {
    pub app_id: String,
    pub profile_id: String,
    pub customer_user_id: Option<String>,
    pub total_revenue_usd: f64,
    pub segment_hash: Option<String>,
    /// When Adapty produced the answer, in milliseconds since the epoch, as
    /// sent; `produced_at` says whether it can be that.
    pub timestamp: Option<i64>,
    pub custom_attributes: Vec<CustomAttribute>,
    pub access_levels: Vec<AccessLevel>,
    pub subscriptions: Vec<Subscription>,
    pub non_subscriptions: Vec<NonSubscription>,
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(deserializer.deserialize_map(Record::Profile)?.profile)
    }
}

impl Profile {
    /// When Adapty produced this answer, from `timestamp`, if it can be that:
    /// not when it is absent, before 2000 (`0`, negative, or seconds sent as
    /// milliseconds: Adapty's reference example sends `0`), or more than a
    /// day after `received`, the moment the panel received the answer. The
    /// panel then says when it received it instead (`cells::data_time`).
    pub fn produced_at(&self, received: DateTime<Utc>) -> Option<DateTime<Utc>> {
        const YEAR_2000_MS: i64 = 946_684_800_000;
        let millis = self.timestamp.filter(|&millis| millis >= YEAR_2000_MS)?;
        let at = DateTime::from_timestamp_millis(millis)?;
        (at <= received.checked_add_signed(chrono::Duration::days(1))?).then_some(at)
    }

    /// Fills `linked_environment` of every access level that lacks
    /// `environment`, from the subscriptions and purchases that have one.
    fn link_environments(&mut self) {
        let mut purchases = Vec::new();
        for item in &self.subscriptions {
            if let Some(environment) = &item.environment {
                purchases.push((
                    Purchase {
                        store: &item.store,
                        product: &item.store_product_id,
                        transaction: item.store_transaction_id.as_deref(),
                        original_transaction: item.store_original_transaction_id.as_deref(),
                    },
                    environment.as_str(),
                ));
            }
        }
        for item in &self.non_subscriptions {
            if let Some(environment) = &item.environment {
                purchases.push((
                    Purchase {
                        store: &item.store,
                        product: &item.store_product_id,
                        transaction: item.store_transaction_id.as_deref(),
                        original_transaction: item.store_original_transaction_id.as_deref(),
                    },
                    environment.as_str(),
                ));
            }
        }
        let found: Vec<_> = self
            .access_levels
            .iter()
            .map(|level| match level.environment {
                Some(_) => None,
                None => environment::linked(
                    Purchase {
                        store: &level.store,
                        product: &level.store_product_id,
                        transaction: level.store_transaction_id.as_deref(),
                        original_transaction: level.store_original_transaction_id.as_deref(),
                    },
                    &purchases,
                ),
            })
            .collect();
        for (level, found) in self.access_levels.iter_mut().zip(found) {
            level.linked_environment = found;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CustomAttribute {
    pub key: String,
    /// A string or a number in practice.
    pub value: Loose,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AccessLevel {
    pub access_level_id: String,
    pub store: String,
    pub store_product_id: String,
    pub store_base_plan_id: Option<String>,
    pub store_transaction_id: Option<String>,
    pub store_original_transaction_id: Option<String>,
    pub offer: Option<Offer>,
    pub starts_at: Option<Timestamp>,
    pub purchased_at: Option<Timestamp>,
    pub originally_purchased_at: Option<Timestamp>,
    /// `None` means lifetime access.
    pub expires_at: Option<Timestamp>,
    pub renewal_cancelled_at: Option<Timestamp>,
    pub billing_issue_detected_at: Option<Timestamp>,
    pub is_in_grace_period: bool,
    pub cancellation_reason: Option<String>,
    /// Sometimes present, sometimes not.
    pub environment: Option<String>,
    /// Not Adapty's: when `environment` is absent, the one of the purchase
    /// this access level comes from, and how it was found.
    pub linked_environment: Option<(String, Link)>,
    /// Not Adapty's: support's grant or revoke, from the relay's record,
    /// when it still explains this access level (`support::attribute`).
    pub by_support: Option<StaffChange>,
}

/// A grant or revoke support made through the relay: who, why and when.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffChange {
    pub revoked: bool,
    pub author: String,
    pub reason: String,
    /// When the relay sent it.
    pub at: DateTime<Utc>,
}

impl AccessLevel {
    /// The environment Adapty gave, or else the linked one.
    pub fn effective_environment(&self) -> Option<&str> {
        self.environment.as_deref().or(self
            .linked_environment
            .as_ref()
            .map(|(env, _)| env.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Subscription {
    pub store: String,
    pub store_product_id: String,
    pub store_base_plan_id: Option<String>,
    pub store_transaction_id: Option<String>,
    pub store_original_transaction_id: Option<String>,
    pub offer: Option<Offer>,
    pub environment: Option<String>,
    pub purchased_at: Option<Timestamp>,
    pub originally_purchased_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub renewal_cancelled_at: Option<Timestamp>,
    pub billing_issue_detected_at: Option<Timestamp>,
    pub is_in_grace_period: bool,
    pub cancellation_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NonSubscription {
    pub purchase_id: Option<String>,
    pub store: String,
    pub store_product_id: String,
    pub store_base_plan_id: Option<String>,
    pub store_transaction_id: Option<String>,
    pub store_original_transaction_id: Option<String>,
    pub purchased_at: Option<Timestamp>,
    pub environment: Option<String>,
    pub is_refund: bool,
    pub is_consumable: bool,
}

/// An offer applied to a purchase. Adapty spells its fields either
/// `category`/`type`/`id` or `offer_category`/`offer_type`/`offer_id`; a body
/// carrying both spellings does not fail as a duplicate field would with
/// `#[serde(alias)]`: the short one wins.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Offer {
    /// `introductory`, `promotional`, `offer_code`, `win_back`, or a newer one.
    pub category: Option<String>,
    /// `free_trial`, `pay_as_you_go`, `pay_up_front`, `unknown`, or a newer one.
    pub offer_type: Option<String>,
    pub id: Option<String>,
}

impl<'de> Deserialize<'de> for Offer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(Record::Offer).map(Offer::from)
    }
}

/// A point in time as Adapty wrote it. A spelling we cannot read is kept
/// verbatim rather than failing the whole profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timestamp {
    At(DateTime<Utc>),
    Unreadable(String),
}

impl Timestamp {
    pub fn parse(text: &str) -> Timestamp {
        // RFC 3339 covers `+00:00`, `Z` and fractional seconds. Adapty also
        // writes the offset without a colon (`+0000`): add it, rather than
        // pull chrono's whole strftime parser into the wasm for one pattern.
        let bytes = text.as_bytes();
        let colonless = bytes.len() > 5
            && matches!(bytes[bytes.len() - 5], b'+' | b'-')
            && bytes[bytes.len() - 4..].iter().all(u8::is_ascii_digit);
        let normalized = if colonless {
            let (head, minutes) = text.split_at(text.len() - 2);
            format!("{head}:{minutes}")
        } else {
            text.to_owned()
        };
        DateTime::parse_from_rfc3339(&normalized)
            .map(|at| Timestamp::At(at.with_timezone(&Utc)))
            .unwrap_or_else(|_| Timestamp::Unreadable(text.to_owned()))
    }

    pub fn instant(&self) -> Option<DateTime<Utc>> {
        match self {
            Timestamp::At(at) => Some(*at),
            Timestamp::Unreadable(_) => None,
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Loose::deserialize(deserializer)? {
            Loose::Text(text) => Timestamp::parse(&text),
            other => Timestamp::Unreadable(other.to_string()),
        })
    }
}

/// Any JSON value, as a person reads it. Lighter than `serde_json::Value`
/// (which would weigh on the wasm) and all the panel needs of values whose
/// type Adapty does not keep to: strings verbatim, numbers exactly as sent.
/// The relay's own small answers (the session, an error) are read as one
/// too, rather than by a derived `Deserialize` each, for the same weight.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Loose {
    Text(String),
    /// The number's digits, so large integers keep every one.
    Number(String),
    Bool(bool),
    #[default]
    Null,
    List(Vec<Loose>),
    /// An object's fields in their order.
    Object(Vec<(String, Loose)>),
}

impl Loose {
    /// The value of this object's field `name`: `Null` when there is none
    /// or this is not an object.
    pub fn get(&self, name: &str) -> &Loose {
        match self {
            Loose::Object(fields) => fields
                .iter()
                .find(|(field, _)| field == name)
                .map_or(&Loose::Null, |(_, value)| value),
            _ => &Loose::Null,
        }
    }

    /// The string this is, if it is one.
    pub fn text(&self) -> Option<&str> {
        match self {
            Loose::Text(text) => Some(text),
            _ => None,
        }
    }

    /// `true` only for `true`.
    pub fn is_true(&self) -> bool {
        *self == Loose::Bool(true)
    }

    /// The items of a list; none for anything else.
    pub fn items(&self) -> &[Loose] {
        match self {
            Loose::List(items) => items,
            _ => &[],
        }
    }

    /// Field `name` when it is a string.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).text().map(str::to_owned)
    }

    /// Field `name` when it is a number (read by serde_json's parser, in
    /// the wasm anyway).
    pub fn number(&self, name: &str) -> Option<f64> {
        match self.get(name) {
            Loose::Number(digits) => serde_json::from_str(digits).ok(),
            _ => None,
        }
    }

    /// Field `name` when it is `true` or `false`.
    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Loose::Bool(value) => Some(*value),
            _ => None,
        }
    }
}

impl Loose {
    /// This value as JSON, for a request's body: strings escaped, numbers
    /// as their digits. The panel's own writer: serde_json's string writer
    /// would add about 1 KB to the wasm.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Loose::Text(text) => quote(text, out),
            Loose::Number(digits) => out.push_str(digits),
            Loose::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Loose::Null => out.push_str("null"),
            Loose::List(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Loose::Object(fields) => {
                out.push('{');
                for (n, (name, value)) in fields.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    quote(name, out);
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// A JSON string: `"` and `\` escaped, and the control characters JSON
/// does not allow as they are.
fn quote(text: &str, out: &mut String) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{0}'..='\u{1f}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(character)));
            }
            _ => out.push(character),
        }
    }
    out.push('"');
}

impl fmt::Display for Loose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loose::Text(text) | Loose::Number(text) => f.write_str(text),
            Loose::Bool(value) => write!(f, "{value}"),
            Loose::Null => f.write_str("null"),
            Loose::List(_) | Loose::Object(_) => {
                f.write_str("(a list or object: see the raw response)")
            }
        }
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LooseVisitor;
        impl<'de> Visitor<'de> for LooseVisitor {
            type Value = Loose;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Loose, E> {
                Ok(Loose::Text(text.to_owned()))
            }
            fn visit_string<E: de::Error>(self, text: String) -> Result<Loose, E> {
                Ok(Loose::Text(text))
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<Loose, E> {
                Ok(Loose::Number(number.to_string()))
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Loose, E> {
                Ok(Loose::Number(number.to_string()))
            }
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<Loose, E> {
                // serde_json's float writer is in the wasm anyway; core's
                // `Display for f64` would add its own ~10 KB.
                Ok(Loose::Number(
                    serde_json::to_string(&number).unwrap_or_default(),
                ))
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Loose, E> {
                Ok(Loose::Bool(value))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Loose, E> {
                Ok(Loose::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Loose, E> {
                Ok(Loose::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Loose, D::Error> {
                Loose::deserialize(inner)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Loose::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
                let mut fields = Vec::new();
                while let Some(field) = map.next_entry()? {
                    fields.push(field);
                }
                Ok(Loose::Object(fields))
            }
        }
        deserializer.deserialize_any(LooseVisitor)
    }
}

/// The kinds of JSON object in a profile, all read field by field by one
/// reader rather than one derived `Deserialize` each: the derived ones, with
/// their copies of every field's code, were the largest part of the panel's
/// own wasm. Each kind reads only its own fields and skips any other unread,
/// so a stray field of another list, of any type, cannot fail it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Record {
    Profile,
    AccessLevel,
    Subscription,
    NonSubscription,
    Offer,
    CustomAttribute,
}

/// An object as read: the struct of its kind, filled; the others empty.
#[derive(Default)]
struct Fields {
    /// The fields read so far, one bit each, to refuse a repeated one and
    /// to tell a missing one.
    seen: u64,
    profile: Profile,
    access_level: AccessLevel,
    subscription: Subscription,
    non_subscription: NonSubscription,
    offer: Offer,
    /// `category`, `type` and `id` as Adapty's other spelling has them.
    offer_spelled_long: Offer,
    custom_attribute: CustomAttribute,
}

/// Where a field's value goes, and so how it is read.
enum Place<'a> {
    /// A string, which `null` is not.
    Text(&'a mut String),
    /// `null`, `""` or only spaces: absent (`given`).
    OptionalText(&'a mut Option<String>),
    /// Absent as `OptionalText` is.
    Time(&'a mut Option<Timestamp>),
    /// `null` means `false`.
    Flag(&'a mut bool),
    /// Absent as `OptionalText` is, or when none of its fields is given.
    Offer(&'a mut Option<Offer>),
    Value(&'a mut Loose),
    /// A number, or a string holding one.
    Revenue(&'a mut f64),
    Millis(&'a mut Option<i64>),
    /// A list of objects of the given kind, or `null`.
    List(Record, &'a mut dyn Items),
    /// Not a field of this kind of object.
    Skip,
}

impl Record {
    /// Where the value of the field `name` goes, or `None` if the object
    /// had that field already.
    fn place<'a>(self, name: &str, fields: &'a mut Fields) -> Option<Place<'a>> {
        use Place::*;
        // Each field's bit in `Fields::seen`; a required field has bit 0.
        let (bit, place) = match self {
            Record::Profile => {
                let p = &mut fields.profile;
                match name {
                    "profile_id" => (0, Text(&mut p.profile_id)),
                    "app_id" => (1, Text(&mut p.app_id)),
                    "customer_user_id" => (2, OptionalText(&mut p.customer_user_id)),
                    "total_revenue_usd" => (3, Revenue(&mut p.total_revenue_usd)),
                    "segment_hash" => (4, OptionalText(&mut p.segment_hash)),
                    "timestamp" => (5, Millis(&mut p.timestamp)),
                    "custom_attributes" => {
                        (6, List(Record::CustomAttribute, &mut p.custom_attributes))
                    }
                    "access_levels" => (7, List(Record::AccessLevel, &mut p.access_levels)),
                    "subscriptions" => (8, List(Record::Subscription, &mut p.subscriptions)),
                    "non_subscriptions" => {
                        (9, List(Record::NonSubscription, &mut p.non_subscriptions))
                    }
                    _ => return Some(Skip),
                }
            }
            Record::AccessLevel => {
                let a = &mut fields.access_level;
                match name {
                    "access_level_id" => (0, Text(&mut a.access_level_id)),
                    "store" => (1, Text(&mut a.store)),
                    "store_product_id" => (2, Text(&mut a.store_product_id)),
                    "store_base_plan_id" => (3, OptionalText(&mut a.store_base_plan_id)),
                    "store_transaction_id" => (4, OptionalText(&mut a.store_transaction_id)),
                    "store_original_transaction_id" => {
                        (5, OptionalText(&mut a.store_original_transaction_id))
                    }
                    "offer" => (6, Offer(&mut a.offer)),
                    "starts_at" => (7, Time(&mut a.starts_at)),
                    "purchased_at" => (8, Time(&mut a.purchased_at)),
                    "originally_purchased_at" => (9, Time(&mut a.originally_purchased_at)),
                    "expires_at" => (10, Time(&mut a.expires_at)),
                    "renewal_cancelled_at" => (11, Time(&mut a.renewal_cancelled_at)),
                    "billing_issue_detected_at" => (12, Time(&mut a.billing_issue_detected_at)),
                    "is_in_grace_period" => (13, Flag(&mut a.is_in_grace_period)),
                    "cancellation_reason" => (14, OptionalText(&mut a.cancellation_reason)),
                    "environment" => (15, OptionalText(&mut a.environment)),
                    _ => return Some(Skip),
                }
            }
            Record::Subscription => {
                let s = &mut fields.subscription;
                match name {
                    "store" => (0, Text(&mut s.store)),
                    "store_product_id" => (1, Text(&mut s.store_product_id)),
                    "store_base_plan_id" => (2, OptionalText(&mut s.store_base_plan_id)),
                    "store_transaction_id" => (3, OptionalText(&mut s.store_transaction_id)),
                    "store_original_transaction_id" => {
                        (4, OptionalText(&mut s.store_original_transaction_id))
                    }
                    "offer" => (5, Offer(&mut s.offer)),
                    "environment" => (6, OptionalText(&mut s.environment)),
                    "purchased_at" => (7, Time(&mut s.purchased_at)),
                    "originally_purchased_at" => (8, Time(&mut s.originally_purchased_at)),
                    "expires_at" => (9, Time(&mut s.expires_at)),
                    "renewal_cancelled_at" => (10, Time(&mut s.renewal_cancelled_at)),
                    "billing_issue_detected_at" => (11, Time(&mut s.billing_issue_detected_at)),
                    "is_in_grace_period" => (12, Flag(&mut s.is_in_grace_period)),
                    "cancellation_reason" => (13, OptionalText(&mut s.cancellation_reason)),
                    _ => return Some(Skip),
                }
            }
            Record::NonSubscription => {
                let n = &mut fields.non_subscription;
                match name {
                    "purchase_id" => (0, OptionalText(&mut n.purchase_id)),
                    "store" => (1, Text(&mut n.store)),
                    "store_product_id" => (2, Text(&mut n.store_product_id)),
                    "store_base_plan_id" => (3, OptionalText(&mut n.store_base_plan_id)),
                    "store_transaction_id" => (4, OptionalText(&mut n.store_transaction_id)),
                    "store_original_transaction_id" => {
                        (5, OptionalText(&mut n.store_original_transaction_id))
                    }
                    "purchased_at" => (6, Time(&mut n.purchased_at)),
                    "environment" => (7, OptionalText(&mut n.environment)),
                    "is_refund" => (8, Flag(&mut n.is_refund)),
                    "is_consumable" => (9, Flag(&mut n.is_consumable)),
                    _ => return Some(Skip),
                }
            }
            Record::Offer => {
                let (short, long) = (&mut fields.offer, &mut fields.offer_spelled_long);
                match name {
                    "category" => (0, OptionalText(&mut short.category)),
                    "offer_category" => (1, OptionalText(&mut long.category)),
                    "type" => (2, OptionalText(&mut short.offer_type)),
                    "offer_type" => (3, OptionalText(&mut long.offer_type)),
                    "id" => (4, OptionalText(&mut short.id)),
                    "offer_id" => (5, OptionalText(&mut long.id)),
                    _ => return Some(Skip),
                }
            }
            Record::CustomAttribute => {
                let c = &mut fields.custom_attribute;
                match name {
                    "key" => (0, Text(&mut c.key)),
                    "value" => (1, Value(&mut c.value)),
                    _ => return Some(Skip),
                }
            }
        };
        let repeated = fields.seen & 1 << bit != 0;
        fields.seen |= 1 << bit;
        (!repeated).then_some(place)
    }

    /// The field an object of this kind cannot do without (its bit 0).
    fn required(self) -> Option<&'static str> {
        match self {
            Record::Profile => Some("profile_id"),
            Record::AccessLevel => Some("access_level_id"),
            Record::CustomAttribute => Some("key"),
            _ => None,
        }
    }
}

impl<'de> de::DeserializeSeed<'de> for Record {
    type Value = Fields;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Fields, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Record {
    type Value = Fields;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "struct {self:?}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut fields = Fields::default();
        while let Some(place) = map.next_key_seed(Key {
            record: self,
            fields: &mut fields,
        })? {
            match place {
                Place::Text(slot) => *slot = map.next_value()?,
                Place::OptionalText(slot) => {
                    *slot = map
                        .next_value::<Option<String>>()?
                        .filter(|text| given(text))
                }
                Place::Time(slot) => {
                    *slot = map
                        .next_value::<Option<Timestamp>>()?
                        .filter(|time| match time {
                            Timestamp::Unreadable(raw) => given(raw),
                            Timestamp::At(_) => true,
                        })
                }
                Place::Flag(slot) => *slot = map.next_value::<Option<bool>>()?.unwrap_or_default(),
                Place::Offer(slot) => {
                    *slot = map.next_value::<Option<Offer>>()?.filter(|offer| {
                        offer.category.is_some() || offer.offer_type.is_some() || offer.id.is_some()
                    })
                }
                Place::Value(slot) => *slot = map.next_value()?,
                Place::Revenue(slot) => {
                    *slot = revenue(map.next_value()?).map_err(de::Error::custom)?
                }
                Place::Millis(slot) => *slot = map.next_value()?,
                Place::List(record, items) => map.next_value_seed(List { record, items })?,
                Place::Skip => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match self.required() {
            Some(name) if fields.seen & 1 == 0 => Err(de::Error::missing_field(name)),
            _ => Ok(fields),
        }
    }
}

/// Whether an optional string says anything: Adapty writes `""` where a
/// value is absent (`"store_base_plan_id": ""` for the App Store, which has
/// no base plans), so an empty or blank one reads as `null`, here, once,
/// for every optional field, date and offer; nothing after the model sees it.
fn given(text: &str) -> bool {
    !text.trim().is_empty()
}

/// Reads a field's name, and finds where its value goes.
struct Key<'a> {
    record: Record,
    fields: &'a mut Fields,
}

impl<'de, 'a> de::DeserializeSeed<'de> for Key<'a> {
    type Value = Place<'a>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Place<'a>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de, 'a> Visitor<'de> for Key<'a> {
    type Value = Place<'a>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Place<'a>, E> {
        self.record
            .place(name, self.fields)
            .ok_or_else(|| E::custom(format_args!("duplicate field `{name}`")))
    }
}

/// A list of objects of one kind: `null` means an empty one. This code is
/// in the wasm once, not once per type of item: each object read is added
/// through `Items`.
struct List<'a> {
    record: Record,
    items: &'a mut dyn Items,
}

/// A list that takes objects as read.
trait Items {
    fn add(&mut self, fields: Fields);
}

impl<T: From<Fields>> Items for Vec<T> {
    fn add(&mut self, fields: Fields) {
        self.push(T::from(fields));
    }
}

impl<'de> de::DeserializeSeed<'de> for List<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for List<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(fields) = seq.next_element_seed(self.record)? {
            self.items.add(fields);
        }
        Ok(())
    }
}

impl From<Fields> for AccessLevel {
    fn from(fields: Fields) -> Self {
        fields.access_level
    }
}

impl From<Fields> for Subscription {
    fn from(fields: Fields) -> Self {
        fields.subscription
    }
}

impl From<Fields> for NonSubscription {
    fn from(fields: Fields) -> Self {
        fields.non_subscription
    }
}

impl From<Fields> for CustomAttribute {
    fn from(fields: Fields) -> Self {
        fields.custom_attribute
    }
}

impl From<Fields> for Offer {
    fn from(fields: Fields) -> Self {
        let (short, long) = (fields.offer, fields.offer_spelled_long);
        Offer {
            category: short.category.or(long.category),
            offer_type: short.offer_type.or(long.offer_type),
            id: short.id.or(long.id),
        }
    }
}

/// The access level most tests start from: the seed's weekly premium on the
/// App Store, bought 4 days before `now`, renewing in 3 days.
#[cfg(test)]
pub(crate) fn sample_access_level(now: DateTime<Utc>) -> AccessLevel {
    let at = |days| Some(Timestamp::At(now + chrono::Duration::days(days)));
    AccessLevel {
        access_level_id: "premium".into(),
        store: "app_store".into(),
        store_product_id: "weekly.premium.599".into(),
        store_base_plan_id: None,
        store_transaction_id: None,
        store_original_transaction_id: None,
        offer: None,
        starts_at: None,
        purchased_at: at(-4),
        originally_purchased_at: at(-30),
        expires_at: at(3),
        renewal_cancelled_at: None,
        billing_issue_detected_at: None,
        is_in_grace_period: false,
        cancellation_reason: None,
        environment: None,
        linked_environment: None,
        by_support: None,
    }
}

/// Revenue arrives as a number, but a string such as `"9.99"` must not lose it.
fn revenue(value: Loose) -> Result<f64, String> {
    match value {
        // serde_json's number parser, already in the wasm, rather than core's.
        Loose::Number(text) | Loose::Text(text) => serde_json::from_str(text.trim())
            .map_err(|_| format!("total_revenue_usd is not a number: {text:?}")),
        Loose::Null => Ok(0.0),
        other => Err(format!("total_revenue_usd is not a number: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SEED: &str = include_str!("../fixtures/seed.json");
    const REFERENCE_EXAMPLE: &str = include_str!("../fixtures/profile-response-example.json");

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Timestamp {
        Timestamp::At(Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap())
    }

    #[test]
    fn parses_the_documented_seed_example() {
        let profile = Envelope::parse(SEED).unwrap();
        assert_eq!(profile.profile_id, "d8533a10-bcce-4e33-8c9d-88b05ac56559");
        assert_eq!(
            profile.customer_user_id.as_deref(),
            Some("77B14FB4-FD2A-4D38-AA3A-4C433F79863C")
        );
        assert_eq!(profile.total_revenue_usd, 9.99);
        assert_eq!(profile.timestamp, Some(1733324566777));
        assert_eq!(profile.custom_attributes[0].key, "favourite_sport");
        assert_eq!(
            profile.custom_attributes[0].value,
            Loose::Text("yoga".into())
        );

        let premium = &profile.access_levels[0];
        assert_eq!(premium.access_level_id, "premium");
        assert_eq!(premium.expires_at, None, "lifetime access has no expiry");
        assert_eq!(premium.environment, None, "the seed omits it here");
        assert_eq!(premium.effective_environment(), Some("Sandbox"));
        let cancelled = premium.renewal_cancelled_at.as_ref().unwrap();
        assert_eq!(
            cancelled.instant().unwrap(),
            Utc.with_ymd_and_hms(2025, 1, 5, 13, 27, 47).unwrap()
                + chrono::Duration::microseconds(461425)
        );

        assert_eq!(profile.subscriptions.len(), 2);
        let weekly = &profile.subscriptions[1];
        assert_eq!(weekly.store_product_id, "weekly.premium.599");
        assert_eq!(weekly.environment.as_deref(), Some("Sandbox"));
        assert_eq!(weekly.expires_at, Some(at(2025, 1, 10, 11, 34, 40)));

        let purchase = &profile.non_subscriptions[0];
        assert_eq!(purchase.store_product_id, "1year.premium");
        assert_eq!(purchase.purchased_at, Some(at(2022, 10, 12, 9, 42, 50)));
        assert!(!purchase.is_refund && !purchase.is_consumable);
    }

    #[test]
    fn an_empty_or_blank_optional_string_reads_as_absent() {
        // Adapty's reference example sends `"store_base_plan_id": ""` for
        // the App Store, which has no base plans: absent, like `null`.
        let body = r#"{"data":{"profile_id":"p","customer_user_id":" ","segment_hash":"",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w",
                "store_base_plan_id":"","store_transaction_id":"\t","store_original_transaction_id":"",
                "offer":{"category":"","type":" ","id":""},"starts_at":"","purchased_at":" ",
                "originally_purchased_at":"","expires_at":"2025-01-10T11:34:40+00:00",
                "renewal_cancelled_at":"","billing_issue_detected_at":"\n","cancellation_reason":" ",
                "environment":""}],
            "subscriptions":[{"store":"app_store","store_product_id":"w","store_base_plan_id":"  ",
                "store_transaction_id":"","store_original_transaction_id":"",
                "offer":{"offer_category":"","offer_type":"","offer_id":""},"environment":" ",
                "purchased_at":"","originally_purchased_at":"","expires_at":"","renewal_cancelled_at":"",
                "billing_issue_detected_at":"","cancellation_reason":""}],
            "non_subscriptions":[{"purchase_id":"","store":"app_store","store_product_id":"c",
                "store_base_plan_id":"","store_transaction_id":" ","store_original_transaction_id":"",
                "purchased_at":"","environment":""}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert_eq!(profile.customer_user_id, None);
        assert_eq!(profile.segment_hash, None);
        let level = &profile.access_levels[0];
        assert_eq!(
            level,
            &AccessLevel {
                access_level_id: "premium".into(),
                store: "app_store".into(),
                store_product_id: "w".into(),
                expires_at: Some(at(2025, 1, 10, 11, 34, 40)),
                ..AccessLevel::default()
            },
            "an offer with nothing in it is no offer"
        );
        assert_eq!(
            profile.subscriptions[0],
            Subscription {
                store: "app_store".into(),
                store_product_id: "w".into(),
                ..Subscription::default()
            }
        );
        assert_eq!(
            profile.non_subscriptions[0],
            NonSubscription {
                store: "app_store".into(),
                store_product_id: "c".into(),
                ..NonSubscription::default()
            }
        );
        // A blank field of an offer is absent; the others stay.
        let offer: Offer =
            serde_json::from_str(r#"{"category":"promotional","type":"","offer_id":" "}"#).unwrap();
        assert_eq!(offer.category.as_deref(), Some("promotional"));
        assert_eq!((offer.offer_type, offer.id), (None, None));
        // A value with text in it is kept verbatim, spaces and all.
        let body = r#"{"data":{"profile_id":"p","subscriptions":[
            {"store":"app_store","store_product_id":"w","store_base_plan_id":" monthly "}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert_eq!(
            profile.subscriptions[0].store_base_plan_id.as_deref(),
            Some(" monthly ")
        );
    }

    #[test]
    fn blank_transaction_ids_do_not_link_an_environment() {
        // Two empty strings are not the same transaction.
        let body = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w",
                "store_transaction_id":""}],
            "non_subscriptions":[{"store":"app_store","store_product_id":"x",
                "store_transaction_id":"","environment":"Sandbox"}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert_eq!(profile.access_levels[0].linked_environment, None);
    }

    #[test]
    fn the_reference_example_reads_with_both_offer_spellings_and_no_blanks() {
        let profile = Envelope::parse(REFERENCE_EXAMPLE).unwrap();
        assert_eq!(profile.timestamp, Some(0));
        let level = &profile.access_levels[0];
        assert_eq!(level.store_base_plan_id, None);
        assert_eq!(level.environment.as_deref(), Some("Production"));
        assert_eq!(level.linked_environment, None, "Adapty gave it");
        let offer = Offer {
            category: Some("introductory".into()),
            offer_type: Some("free_trial".into()),
            id: Some("offer12".into()),
        };
        assert_eq!(level.offer.as_ref(), Some(&offer));
        let subscription = &profile.subscriptions[0];
        assert_eq!(
            subscription.offer.as_ref(),
            Some(&offer),
            "the long spelling"
        );
        assert_eq!(subscription.store_base_plan_id, None);
        assert_eq!(
            subscription.expires_at,
            Some(at(2022, 10, 12, 9, 42, 50)),
            "`+0000` with six-digit fractions"
        );
        let purchase = &profile.non_subscriptions[0];
        assert_eq!(purchase.store_base_plan_id, None);
        assert!(purchase.is_refund && purchase.is_consumable);
    }

    #[test]
    fn a_timestamp_that_cannot_be_when_adapty_answered_is_not_used() {
        let received = Utc.with_ymd_and_hms(2027, 3, 1, 12, 0, 0).unwrap();
        let produced = |timestamp: Option<i64>| {
            Profile {
                timestamp,
                ..Profile::default()
            }
            .produced_at(received)
        };
        // The seed's own, in milliseconds.
        assert_eq!(
            produced(Some(1733324566777)),
            Some(
                Utc.with_ymd_and_hms(2024, 12, 4, 15, 2, 46).unwrap()
                    + chrono::Duration::milliseconds(777)
            )
        );
        let day = chrono::Duration::days(1).num_milliseconds();
        let received_ms = received.timestamp_millis();
        assert_eq!(
            produced(Some(received_ms + day)),
            received.checked_add_signed(chrono::Duration::days(1))
        );
        for impossible in [
            None,
            Some(0),
            Some(-1),
            Some(i64::MIN),
            Some(i64::MAX),
            // Seconds sent as milliseconds: January 1970.
            Some(1733324566),
            // Before 2000: not an answer from Adapty.
            Some(946684799999),
            // More than a day after the panel received it.
            Some(received_ms + day + 1),
        ] {
            assert_eq!(produced(impossible), None, "{impossible:?}");
        }
        assert!(produced(Some(946684800000)).is_some(), "2000 itself");
    }

    #[test]
    fn null_arrays_mean_empty_lists() {
        let body = r#"{"data":{"profile_id":"p","access_levels":null,"subscriptions":null,
            "non_subscriptions":null,"custom_attributes":null}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert!(profile.access_levels.is_empty());
        assert!(profile.subscriptions.is_empty());
        assert!(profile.non_subscriptions.is_empty());
        assert!(profile.custom_attributes.is_empty());
    }

    #[test]
    fn missing_arrays_and_optional_fields_are_accepted() {
        let profile = Envelope::parse(r#"{"data":{"profile_id":"p"}}"#).unwrap();
        assert_eq!(profile.customer_user_id, None);
        assert_eq!(profile.total_revenue_usd, 0.0);
        assert!(profile.access_levels.is_empty());
    }

    #[test]
    fn both_offer_spellings_are_read() {
        let short: Offer =
            serde_json::from_str(r#"{"category":"introductory","type":"free_trial","id":"t7"}"#)
                .unwrap();
        let long: Offer = serde_json::from_str(
            r#"{"offer_category":"introductory","offer_type":"free_trial","offer_id":"t7"}"#,
        )
        .unwrap();
        assert_eq!(short, long);
        assert_eq!(short.category.as_deref(), Some("introductory"));
        assert_eq!(short.offer_type.as_deref(), Some("free_trial"));
        assert_eq!(short.id.as_deref(), Some("t7"));
        // Both spellings at once must not fail as a duplicate field.
        let both: Offer = serde_json::from_str(
            r#"{"category":"win_back","offer_category":"win_back","id":null}"#,
        )
        .unwrap();
        assert_eq!(both.category.as_deref(), Some("win_back"));
        assert_eq!(both.id, None);
    }

    #[test]
    fn every_documented_date_spelling_is_the_same_instant() {
        let expected = at(2024, 12, 24, 10, 50, 23);
        assert_eq!(Timestamp::parse("2024-12-24T10:50:23+00:00"), expected);
        assert_eq!(Timestamp::parse("2024-12-24T10:50:23+0000"), expected);
        assert_eq!(Timestamp::parse("2024-12-24T10:50:23Z"), expected);
        assert_eq!(Timestamp::parse("2024-12-24T12:50:23+0200"), expected);
        let fractional = Timestamp::parse("2025-01-05T13:27:47.461425+00:00");
        assert_eq!(
            fractional.instant().unwrap().timestamp_micros() % 1_000_000,
            461425
        );
    }

    #[test]
    fn an_unreadable_date_is_kept_verbatim_instead_of_failing() {
        assert_eq!(
            Timestamp::parse("24/12/2024"),
            Timestamp::Unreadable("24/12/2024".into())
        );
        let body = r#"{"data":{"profile_id":"p","non_subscriptions":[
            {"store":"app_store","store_product_id":"x","purchased_at":1733324566}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert_eq!(
            profile.non_subscriptions[0].purchased_at,
            Some(Timestamp::Unreadable("1733324566".into()))
        );
    }

    #[test]
    fn unknown_fields_and_unknown_store_names_are_accepted() {
        let body = r#"{"data":{"profile_id":"p","brand_new_field":{"x":[1,2]},
            "subscriptions":[{"store":"my_custom_store","store_product_id":"gold",
            "environment":"Staging","cancellation_reason":"alien_abduction","extra":true}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        let subscription = &profile.subscriptions[0];
        assert_eq!(subscription.store, "my_custom_store");
        assert_eq!(subscription.environment.as_deref(), Some("Staging"));
        assert_eq!(
            subscription.cancellation_reason.as_deref(),
            Some("alien_abduction")
        );
    }

    /// A request's body, written by the panel's own writer, reads back as
    /// what was meant, whatever the agent typed.
    #[test]
    fn a_body_written_as_json_reads_back_whole() {
        let typed = "quote \" backslash \\ tab\t bell\u{7} é 👍 \u{2028}";
        let body = Loose::Object(vec![
            ("text".into(), Loose::Text(typed.into())),
            ("number".into(), Loose::Number("-12.5".into())),
            ("gone".into(), Loose::Null),
            ("flag".into(), Loose::Bool(false)),
            (
                "list".into(),
                Loose::List(vec![Loose::Bool(true), Loose::Object(vec![])]),
            ),
        ]);
        let json = body.to_json();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).unwrap(),
            serde_json::json!({"text": typed, "number": -12.5, "gone": null, "flag": false,
                "list": [true, {}]})
        );
        assert_eq!(serde_json::from_str::<Loose>(&json).unwrap(), body);
    }

    #[test]
    fn attribute_values_may_be_numbers_and_revenue_may_be_a_string() {
        let body = r#"{"data":{"profile_id":"p","total_revenue_usd":" 12.5 ",
            "custom_attributes":[{"key":"level","value":7},{"key":"name","value":"Ann"},
            {"key":"score","value":0.25},{"key":"huge","value":1e300}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert_eq!(profile.total_revenue_usd, 12.5);
        let values: Vec<String> = profile
            .custom_attributes
            .iter()
            .map(|attribute| attribute.value.to_string())
            .collect();
        assert_eq!(values, ["7", "Ann", "0.25", "1e+300"]);
        for revenue in [r#""twelve""#, r#""NaN""#, r#""""#, "[1]"] {
            let body = format!(r#"{{"data":{{"profile_id":"p","total_revenue_usd":{revenue}}}}}"#);
            let error = Envelope::parse(&body).unwrap_err().to_string();
            assert!(
                error.contains("total_revenue_usd is not a number"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_repeated_field_is_an_error_that_says_so() {
        // Even when the first one is null: which one would be Adapty's?
        let body = r#"{"data":{"profile_id":"p","subscriptions":[
            {"store":"app_store","expires_at":null,"expires_at":"2024-12-24T10:50:23Z"}]}}"#;
        let error = Envelope::parse(body).unwrap_err().to_string();
        assert!(error.contains("duplicate field `expires_at`"), "{error}");
        let body = r#"{"data":{"profile_id":"p","access_levels":[
            {"access_level_id":"a","offer":{"id":"x","id":"y"}}]}}"#;
        let error = Envelope::parse(body).unwrap_err().to_string();
        assert!(error.contains("duplicate field `id`"), "{error}");
    }

    #[test]
    fn an_array_where_an_object_belongs_is_an_error_that_says_so() {
        // Not read position by position as serde's derive would: `["x"]`
        // is not a subscription whose store is "x".
        for (list, expected) in [
            ("access_levels", "struct AccessLevel"),
            ("subscriptions", "struct Subscription"),
            ("non_subscriptions", "struct NonSubscription"),
            ("custom_attributes", "struct CustomAttribute"),
        ] {
            let body = format!(r#"{{"data":{{"profile_id":"p","{list}":[["x"]]}}}}"#);
            let error = Envelope::parse(&body).unwrap_err().to_string();
            assert!(
                error.contains(&format!("invalid type: sequence, expected {expected}")),
                "{error}"
            );
        }
        let body = r#"{"data":{"profile_id":"p","subscriptions":[{"offer":[]}]}}"#;
        let error = Envelope::parse(body).unwrap_err().to_string();
        assert!(error.contains("expected struct Offer"), "{error}");
    }

    #[test]
    fn a_field_a_list_does_not_use_cannot_fail_the_profile() {
        // Each list reads only its own fields: a stray field of another
        // list, of any type, is ignored rather than failing the profile.
        let body = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","purchase_id":7,"is_refund":"yes"}],
            "non_subscriptions":[{"store":"app_store","is_in_grace_period":"x","offer":3}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert_eq!(profile.access_levels[0].access_level_id, "premium");
        assert_eq!(profile.non_subscriptions[0].store, "app_store");
    }

    #[test]
    fn an_access_level_without_its_id_is_an_error_that_says_so() {
        let body = r#"{"data":{"profile_id":"p","access_levels":[{"store":"app_store"}]}}"#;
        let error = Envelope::parse(body).unwrap_err().to_string();
        assert!(error.contains("missing field `access_level_id`"), "{error}");
    }

    #[test]
    fn a_body_that_is_not_a_profile_is_an_error_not_a_panic() {
        for body in [
            "",
            "<html>",
            "{}",
            r#"{"data":[]}"#,
            r#"{"data":{"app_id":"a"}}"#,
        ] {
            assert!(Envelope::parse(body).is_err(), "{body:?} must not parse");
        }
    }
}

/// Any JSON at all, and either documented example with any field replaced
/// by any JSON: the parser answers with a profile or an error, never a panic.
#[cfg(test)]
mod never_panics {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,12}".prop_map(Value::from),
            Just(Value::from("2024-12-24T10:50:23+0000")),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,24}", inner, 0..8)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    /// Every path to a value in the seed, as JSON pointers.
    fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    pointers(child, format!("{at}/{key}"), out);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    pointers(child, format!("{at}/{index}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }

    proptest! {
        #[test]
        fn arbitrary_json(value in any_json()) {
            let _ = Envelope::parse(&value.to_string());
        }

        #[test]
        fn the_seed_with_one_field_replaced(example in any::<bool>(), choice in any::<prop::sample::Index>(), replacement in any_json()) {
            // Either of Adapty's documented examples (`fixtures/README.md`).
            let body = if example {
                include_str!("../fixtures/profile-response-example.json")
            } else {
                include_str!("../fixtures/seed.json")
            };
            let mut seed: Value = serde_json::from_str(body).unwrap();
            let mut paths = Vec::new();
            pointers(&seed, String::new(), &mut paths);
            let path = paths[choice.index(paths.len())].clone();
            if let Some(slot) = seed.pointer_mut(&path) {
                *slot = replacement;
            }
            let _ = Envelope::parse(&seed.to_string());
        }

        #[test]
        fn arbitrary_text(text in ".{0,200}") {
            let _ = Envelope::parse(&text);
        }
    }

    // How `parse` links an access level to its purchase's environment
    // (`environment::linked`), read from whole bodies.

    fn linked_of(body: &str) -> Option<(String, Link)> {
        Envelope::parse(body).unwrap().access_levels[0]
            .linked_environment
            .clone()
    }

    #[test]
    fn the_seeds_premium_is_linked_to_its_sandbox_product() {
        let seed = Envelope::parse(include_str!("../fixtures/seed.json")).unwrap();
        let premium = &seed.access_levels[0];
        assert_eq!(premium.environment, None, "Adapty's field stays as sent");
        assert_eq!(
            premium.linked_environment,
            Some(("Sandbox".into(), Link::Product))
        );
        assert_eq!(premium.effective_environment(), Some("Sandbox"));
    }

    #[test]
    fn a_transaction_wins_over_a_product() {
        let body = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w",
                "store_transaction_id":"t2","store_original_transaction_id":"t1"}],
            "subscriptions":[
                {"store":"app_store","store_product_id":"w","store_transaction_id":"t9","environment":"Sandbox"},
                {"store":"app_store","store_product_id":"w","store_transaction_id":"x",
                 "store_original_transaction_id":"t1","environment":"Production"}]}}"#;
        assert_eq!(
            linked_of(body),
            Some(("Production".into(), Link::Transaction))
        );
    }

    #[test]
    fn a_purchase_links_too_and_disagreeing_products_do_not() {
        let purchase = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"lifetime","store":"play_store","store_product_id":"life",
                "store_transaction_id":"GPA.1"}],
            "non_subscriptions":[{"store":"play_store","store_product_id":"other",
                "store_transaction_id":"GPA.1","environment":"Sandbox"}]}}"#;
        assert_eq!(
            linked_of(purchase),
            Some(("Sandbox".into(), Link::Transaction))
        );
        let disagreeing = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w"}],
            "subscriptions":[
                {"store":"app_store","store_product_id":"w","environment":"Sandbox"},
                {"store":"app_store","store_product_id":"w","environment":"Production"}]}}"#;
        assert_eq!(linked_of(disagreeing), None);
        let other_store = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w"}],
            "subscriptions":[{"store":"play_store","store_product_id":"w","environment":"Sandbox"}]}}"#;
        assert_eq!(linked_of(other_store), None);
    }

    #[test]
    fn a_given_environment_is_never_replaced() {
        let body = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"app_store","store_product_id":"w",
                "environment":"Production"}],
            "subscriptions":[{"store":"app_store","store_product_id":"w","environment":"Sandbox"}]}}"#;
        let profile = Envelope::parse(body).unwrap();
        assert_eq!(profile.access_levels[0].linked_environment, None);
        assert_eq!(
            profile.access_levels[0].effective_environment(),
            Some("Production")
        );
    }

    #[test]
    fn null_ids_do_not_link_to_each_other() {
        let body = r#"{"data":{"profile_id":"p",
            "access_levels":[{"access_level_id":"premium","store":"adapty","store_product_id":"granted",
                "store_transaction_id":null}],
            "non_subscriptions":[{"store":"app_store","store_product_id":"x",
                "store_transaction_id":null,"environment":"Sandbox"}]}}"#;
        assert_eq!(linked_of(body), None);
    }
}
