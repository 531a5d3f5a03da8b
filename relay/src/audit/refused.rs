//! How many refused calls (turned away before Adapty was asked) are written
//! a minute: a share per client, a ceiling for all together, and a count of
//! the rest. A client is a person once the identity check named them (behind
//! an SSO proxy every request comes from the proxy's address), else its
//! address, IPv6 by /64 (one host holds a whole /64). Only so many clients
//! are told apart a minute; beyond them, and beyond the ceiling, refused
//! calls are only counted, in one line for all.

use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;

/// Clients told apart in one minute; more would let a flood of addresses
/// grow the maps without bound.
pub const MAX_CLIENTS: usize = 1024;

/// Whose share a refused call counts against.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Client {
    /// The person the identity check named.
    Actor(String),
    /// An IPv4 address, or an IPv6 /64 as `2001:db8:1:2::/64`.
    Address(String),
}

impl Client {
    pub fn new(actor: Option<&str>, address: IpAddr) -> Client {
        match (actor, address) {
            (Some(actor), _) => Client::Actor(actor.to_owned()),
            (None, IpAddr::V4(v4)) => Client::Address(v4.to_string()),
            (None, IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Client::Address(v4.to_string()),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Client::Address(format!("{}/64", std::net::Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

/// The current minute's counts.
pub struct Refused {
    per_client: u32,
    per_minute: u32,
    written: HashMap<Client, u32>,
    written_total: u32,
    left_out: HashMap<Client, u64>,
    /// Left out beyond the ceiling, or from clients beyond `MAX_CLIENTS`.
    left_out_beyond: u64,
}

/// What one minute left out, for its count lines.
pub struct LeftOut {
    pub per_client: HashMap<Client, u64>,
    pub beyond: u64,
}

impl Refused {
    pub fn new(per_client: u32, per_minute: u32) -> Refused {
        Refused {
            per_client,
            per_minute,
            written: HashMap::new(),
            written_total: 0,
            left_out: HashMap::new(),
            left_out_beyond: 0,
        }
    }

    /// Whether this refused call is written; if not, it is counted.
    pub fn admit(&mut self, client: Client) -> bool {
        if self.written_total >= self.per_minute {
            self.left_out_beyond += 1;
            return false;
        }
        // Every client counted this minute had a line written first.
        let known = self.written.len();
        match self.written.get_mut(&client) {
            Some(written) if *written >= self.per_client => {
                *self.left_out.entry(client).or_default() += 1;
                false
            }
            Some(written) => {
                *written += 1;
                self.written_total += 1;
                true
            }
            None if known >= MAX_CLIENTS => {
                self.left_out_beyond += 1;
                false
            }
            None => {
                self.written.insert(client, 1);
                self.written_total += 1;
                true
            }
        }
    }

    /// Ends the minute: what was left out, and every share starts afresh.
    pub fn end_minute(&mut self) -> LeftOut {
        self.written.clear();
        self.written_total = 0;
        LeftOut {
            per_client: std::mem::take(&mut self.left_out),
            beyond: std::mem::take(&mut self.left_out_beyond),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_64_and_clients_beyond_the_bound_are_counted_together() {
        let one = Client::new(None, "2001:db8:1:2::1".parse().unwrap());
        let other = Client::new(None, "2001:db8:1:2:ffff:ffff:ffff:9".parse().unwrap());
        assert_eq!(one, other);
        assert_eq!(one, Client::Address("2001:db8:1:2::/64".into()));
        assert_ne!(one, Client::new(None, "2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(
            Client::new(None, "::ffff:10.0.0.1".parse().unwrap()),
            Client::Address("10.0.0.1".into())
        );
        assert_eq!(
            Client::new(Some("ann@example.com"), "10.0.0.1".parse().unwrap()),
            Client::Actor("ann@example.com".into())
        );

        let mut refused = Refused::new(1, u32::MAX);
        for n in 0..MAX_CLIENTS + 100 {
            assert_eq!(
                refused.admit(Client::Address(n.to_string())),
                n < MAX_CLIENTS
            );
        }
        assert!(
            !refused.admit(Client::Address("0".into())),
            "its share is spent"
        );
        let left_out = refused.end_minute();
        assert_eq!(left_out.beyond, 100);
        assert_eq!(left_out.per_client.len(), 1);
        assert!(refused.admit(Client::Address("new".into())), "a new minute");
    }
}
