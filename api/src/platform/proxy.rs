//! Who the client is behind a load balancer: the trusted proxies (`PERMIT_TRUSTED_PROXIES`)
//! and the walk along the forwarding header they append to.
//!
//! A proxy appends the address it received the request from to the right of the header, so only
//! the right end is written by proxies we trust; anything to its left may be made up by the
//! client. The walk starts at the socket peer and moves left while the hop it stands on is
//! trusted: the first untrusted address is the client, and when every address is trusted the
//! leftmost is. An entry that is not an address (`unknown`, an obfuscated `_node`, garbage) stops
//! the walk at the last trusted hop, which then stands for the client: every client behind it
//! shares one allowance, which is stricter, never looser, than the truth.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The CIDR ranges whose requests may name the client in a forwarding header.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses a comma- or space-separated list (`10.0.0.0/8, 127.0.0.1`); a bare address is a
    /// single host.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(parse_net)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address: `peer` is the socket peer, `hops` the header's addresses from left
    /// to right (`None` where an entry is not an address).
    pub fn client(&self, peer: IpAddr, hops: &[Option<IpAddr>]) -> IpAddr {
        let mut current = canonical(peer);
        if !self.contains(current) {
            return current;
        }
        for hop in hops.iter().rev() {
            match hop.map(canonical) {
                // Not an address: the trusted hop that wrote it is all we know.
                None => return current,
                Some(ip) if self.contains(ip) => current = ip,
                Some(ip) => return ip,
            }
        }
        current
    }
}

fn parse_net(s: &str) -> Result<IpNet, String> {
    IpNet::from_str(s)
        .or_else(|_| IpAddr::from_str(s).map(IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("trusted_proxies: `{s}` is not an address or CIDR range"))
}

/// An IPv4 client seen on a dual-stack socket (`::ffff:10.0.0.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|n| n.to_string()))
            .finish()
    }
}

impl Serialize for TrustedProxies {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|n| n.to_string()))
    }
}

impl<'de> Deserialize<'de> for TrustedProxies {
    /// A TOML list of strings, or one string (the environment variable) with the ranges
    /// separated by commas or spaces.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(String),
            Many(Vec<String>),
        }
        let text = match Form::deserialize(d)? {
            Form::One(s) => s,
            Form::Many(v) => v.join(","),
        };
        TrustedProxies::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Which header the trusted proxies append to. Only that one is read: a client could send the
/// other one, and the proxies would pass it through untouched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProxyHeader {
    #[default]
    XForwardedFor,
    Forwarded,
}

impl ProxyHeader {
    pub fn name(self) -> &'static str {
        match self {
            ProxyHeader::XForwardedFor => "x-forwarded-for",
            ProxyHeader::Forwarded => "forwarded",
        }
    }

    /// The addresses of every line of the header, in order, left to right.
    pub fn hops<'a>(self, lines: impl Iterator<Item = &'a str>) -> Vec<Option<IpAddr>> {
        let mut out = Vec::new();
        for line in lines {
            for element in line.split(',') {
                out.push(match self {
                    ProxyHeader::XForwardedFor => parse_node(element),
                    ProxyHeader::Forwarded => element
                        .split(';')
                        .filter_map(|pair| pair.split_once('='))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                        .and_then(|(_, v)| parse_node(v)),
                });
            }
        }
        out
    }
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`, optionally quoted.
fn parse_node(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_matches('"');
    if let Ok(ip) = IpAddr::from_str(text) {
        return Some(ip);
    }
    if let Ok(sock) = SocketAddr::from_str(text) {
        return Some(sock.ip());
    }
    text.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(inner, _)| IpAddr::from_str(inner).ok())
}

/// The subject a client address's allowances are counted under: an IPv4 address as it is, an
/// IPv6 address by its /64 (one customer's network hands out a whole /64, so counting single
/// addresses would give a client a fresh allowance with each one it picks).
pub fn allowance_subject(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let prefix = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{prefix}/64")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn hops(list: &[&str]) -> Vec<Option<IpAddr>> {
        list.iter().map(|s| parse_node(s)).collect()
    }

    fn trusted(s: &str) -> TrustedProxies {
        TrustedProxies::parse(s).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_the_header_says() {
        let t = trusted("10.0.0.0/8");
        assert_eq!(
            t.client(ip("203.0.113.9"), &hops(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client(ip("10.0.0.1"), &hops(&["1.2.3.4"])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_address_from_the_right() {
        let t = trusted("10.0.0.0/8, 192.168.1.1");
        // The client sent a made-up "6.6.6.6"; the proxy appended the real peer 198.51.100.7.
        let chain = hops(&["6.6.6.6", "198.51.100.7", "10.1.2.3"]);
        assert_eq!(t.client(ip("192.168.1.1"), &chain), ip("198.51.100.7"));
    }

    #[test]
    fn when_every_hop_is_trusted_the_leftmost_is_the_client() {
        let t = trusted("10.0.0.0/8");
        assert_eq!(
            t.client(ip("10.0.0.1"), &hops(&["10.9.9.9", "10.0.0.2"])),
            ip("10.9.9.9")
        );
        assert_eq!(t.client(ip("10.0.0.1"), &[]), ip("10.0.0.1"));
    }

    #[test]
    fn an_entry_that_is_no_address_stops_at_the_last_trusted_hop() {
        let t = trusted("10.0.0.0/8");
        let chain = hops(&["1.2.3.4", "unknown", "10.0.0.2"]);
        assert_eq!(chain[1], None);
        assert_eq!(t.client(ip("10.0.0.1"), &chain), ip("10.0.0.2"));
    }

    #[test]
    fn mapped_ipv4_and_ports_are_read_as_plain_addresses() {
        let t = trusted("127.0.0.1/32");
        assert!(t.contains(ip("::ffff:127.0.0.1")));
        let forwarded = ProxyHeader::Forwarded
            .hops(["for=\"[2001:db8::1]:4711\";proto=https, for=192.0.2.60:80;by=x"].into_iter());
        assert_eq!(
            forwarded,
            vec![Some(ip("2001:db8::1")), Some(ip("192.0.2.60"))]
        );
        let xff =
            ProxyHeader::XForwardedFor.hops(["203.0.113.1, 198.51.100.2", "10.0.0.3"].into_iter());
        assert_eq!(
            xff,
            vec![
                Some(ip("203.0.113.1")),
                Some(ip("198.51.100.2")),
                Some(ip("10.0.0.3"))
            ]
        );
        assert_eq!(
            ProxyHeader::Forwarded.hops(["proto=https"].into_iter()),
            vec![None]
        );
    }

    #[test]
    fn configuration_accepts_ranges_and_refuses_anything_else() {
        assert_eq!(trusted("10.1.2.3/8"), trusted("10.0.0.0/8"));
        assert!(trusted("::1, 2001:db8::/32").contains(ip("2001:db8::5")));
        for bad in ["10.0.0.0/33", "example.com", "10.0.0", "*"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_ipv4_as_it_is() {
        let subject = |t: &str| allowance_subject(t.parse().unwrap());
        assert_eq!(subject("203.0.113.7"), "203.0.113.7");
        assert_eq!(subject("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(subject("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(
            subject("2001:db8:1:2:aaaa:bbbb:cccc:dddd"),
            subject("2001:db8:1:2::9"),
            "one /64, one allowance"
        );
        assert_ne!(subject("2001:db8:1:3::1"), subject("2001:db8:1:2::1"));
    }
}
