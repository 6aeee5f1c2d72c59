//! Where a request comes from, as the session rows record it.

use crate::text::drop_hidden;
use rocket::request::{FromRequest, Outcome};
use rocket::Request;
use std::net::{IpAddr, Ipv6Addr};

/// The client IP (from the socket unless `ip_header` is set) and the user agent of a request.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientInfo {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        Outcome::Success(ClientInfo {
            ip: req.client_ip().map(|ip| ip.to_string()),
            user_agent: req
                .headers()
                .get_one("User-Agent")
                .map(|ua| drop_hidden(&crate::device::truncate_user_agent(ua))),
        })
    }
}

/// The network an address belongs to, as new-device detection compares them: an IPv4 address's
/// /24 (`203.0.113.0/24`), an IPv6 address's /64 (`2001:db8:1:2::/64`), an IPv4-mapped IPv6
/// address as its IPv4 one. `None` for text that is no address.
pub fn network(ip: &str) -> Option<String> {
    let ip: IpAddr = ip.parse().ok()?;
    Some(match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            format!("{a}.{b}.{c}.0/24")
        }
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", Ipv6Addr::from(prefix))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_s_network_is_its_ipv4_24_or_ipv6_64() {
        assert_eq!(network("203.0.113.5").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(network("203.0.113.77"), network("203.0.113.5"));
        assert_eq!(network("203.0.114.5").as_deref(), Some("203.0.114.0/24"));
        assert_eq!(
            network("::ffff:203.0.113.9").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            network("2001:DB8:0:1:aaaa:bbbb:cccc:dddd").as_deref(),
            Some("2001:db8:0:1::/64")
        );
        assert_eq!(network("2001:db8:0:1::5"), network("2001:db8:0:1:ffff::1"));
        assert_eq!(
            network("2001:db8:0:2::5").as_deref(),
            Some("2001:db8:0:2::/64")
        );
        assert_eq!(network("::1").as_deref(), Some("::/64"));
        for junk in ["", "localhost", "203.0.113", "203.0.113.5:80", "[::1]"] {
            assert_eq!(network(junk), None, "{junk:?}");
        }
    }
}
