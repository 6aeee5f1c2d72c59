//! This process's client connections on one port, read from the kernel (Linux).
//!
//! Each descriptor under `/proc/self/fd` that is a socket is first duplicated, and every check and
//! the shutdown go through the duplicate: if Rocket closes the original meanwhile and the number
//! is reused, the duplicate still names the socket that was checked.

use super::Seen;

/// Whether this platform can list and shut connections.
pub const SUPPORTED: bool = cfg!(target_os = "linux");

/// A client connection, held open by a duplicate of its descriptor until dropped.
pub(crate) struct Connection {
    pub seen: Seen,
    #[cfg(target_os = "linux")]
    fd: std::os::fd::OwnedFd,
}

impl Connection {
    /// Shuts the connection down both ways: Rocket's reads and writes on it end, and Rocket then
    /// closes its descriptor as for any connection the client dropped. Whether it worked.
    pub fn shut(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: shutdown(2) on a descriptor this value owns.
            unsafe { libc::shutdown(self.fd.as_raw_fd(), libc::SHUT_RDWR) == 0 }
        }
        #[cfg(not(target_os = "linux"))]
        false
    }
}

/// The established TCP connections whose local port is `port`.
#[cfg(target_os = "linux")]
pub(crate) fn connections(port: u16) -> std::io::Result<Vec<Connection>> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd")? {
        let Ok(entry) = entry else { continue };
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: F_DUPFD_CLOEXEC either fails or returns a new descriptor that this function
        // then owns; `fd` itself is never closed here.
        let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if dup < 0 {
            continue;
        }
        // SAFETY: `dup` is a fresh descriptor nobody else holds.
        let fd = unsafe { OwnedFd::from_raw_fd(dup) };
        if let Some(seen) = inspect(&fd, port) {
            found.push(Connection { seen, fd });
        }
    }
    Ok(found)
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn connections(_port: u16) -> std::io::Result<Vec<Connection>> {
    Ok(Vec::new())
}

/// The connection behind `fd` if it is an established TCP one accepted on `port`.
#[cfg(target_os = "linux")]
fn inspect(fd: &std::os::fd::OwnedFd, port: u16) -> Option<Seen> {
    use std::os::fd::AsRawFd;
    use std::time::Duration;
    let raw = fd.as_raw_fd();
    let local = address(raw, libc::getsockname)?;
    if local.port() != port {
        return None;
    }
    let peer = address(raw, libc::getpeername)?;
    // SAFETY: getsockopt writes at most `len` bytes into `info`, a plain C struct.
    let info = unsafe {
        let mut info: libc::tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        let got = libc::getsockopt(
            raw,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        );
        (got == 0).then_some(info)?
    };
    const ESTABLISHED: u8 = 1;
    if info.tcpi_state != ESTABLISHED {
        return None;
    }
    Some(Seen {
        peer,
        quiet: Duration::from_millis(info.tcpi_last_data_sent.into()),
    })
}

/// The address that `get` (getsockname or getpeername) reports for `fd`, if it is IPv4 or IPv6.
#[cfg(target_os = "linux")]
fn address(
    fd: i32,
    get: unsafe extern "C" fn(i32, *mut libc::sockaddr, *mut libc::socklen_t) -> i32,
) -> Option<std::net::SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
    // SAFETY: `get` writes at most `len` bytes into `storage`, which is large enough for any
    // address; the casts below read it as the family it says it is.
    unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        if get(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        ) != 0
        {
            return None;
        }
        match storage.ss_family as i32 {
            libc::AF_INET => {
                let a = &*(&storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                Some(SocketAddr::V4(SocketAddrV4::new(
                    ip,
                    u16::from_be(a.sin_port),
                )))
            }
            libc::AF_INET6 => {
                let a = &*(&storage as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
                let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                let port = u16::from_be(a.sin6_port);
                Some(SocketAddr::V6(SocketAddrV6::new(
                    ip,
                    port,
                    a.sin6_flowinfo,
                    a.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }
}
