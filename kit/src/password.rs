//! Password hashing off the async workers, on a pool of its own with a bounded queue.
//!
//! One bcrypt verify at cost 12 takes a few hundred milliseconds of CPU. On an async worker it
//! would stall every request that worker holds, so hashing runs on threads of its own
//! (`hash_threads`, one per core by default), behind a queue of `hash_queue` jobs; past it, or
//! when a check would take over `hash_wait` seconds in all, a login is refused as "busy" (503)
//! instead of piling up without limit.
//!
//! How the CPU is shared is `hash_nice`. At 0 (the default) the kernel gives hashing threads and
//! request workers equal turns: while requests saturate the CPU, logins still get their share
//! (at least a quarter of their idle rate) and requests' p99 stays within twice its value without
//! logins. At 19 requests always win, and logins all but stop while the CPU is busy
//! (docs/performance.md measures both).

use crate::config::AuthConfig;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest password bcrypt can take without truncating it.
pub const MAX_PASSWORD_BYTES: usize = 72;
/// Shortest password accepted at signup.
pub const MIN_PASSWORD_BYTES: usize = 8;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads are all busy and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// Hashes and verifies passwords at a fixed cost on low-priority threads.
pub struct Hasher {
    cost: u32,
    /// Dropping the hasher closes the queue, and its threads end.
    jobs: SyncSender<Job>,
    /// Verified against when the user is unknown, so that case costs the same as a wrong password.
    dummy_hash: String,
    /// Jobs waiting for a thread or running (for the metrics).
    pending: Arc<AtomicUsize>,
    /// The longest a caller waits for its job, queue included (`hash_wait`).
    wait: Duration,
}

impl Hasher {
    /// Starts the hashing threads (`hash_threads`, at `hash_nice`, behind `hash_queue`) and
    /// computes the dummy hash on them.
    pub async fn new(config: &AuthConfig) -> Result<Hasher, String> {
        let cost = config.bcrypt_cost;
        let threads = match config.hash_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let nice = config.hash_nice;
        let (jobs, queue) = sync_channel::<Job>(config.hash_queue);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("bcrypt-{i}"))
                .spawn(move || {
                    lower_priority(nice);
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => break, // the hasher is gone
                        }
                    }
                })
                .map_err(|e| format!("cannot start a hashing thread: {e}"))?;
        }
        let mut hasher = Hasher {
            cost,
            jobs,
            dummy_hash: String::new(),
            pending: Arc::new(AtomicUsize::new(0)),
            // However slow the cost, the app starts: the first hash may take its time.
            wait: Duration::MAX,
        };
        let secret = crate::token::random_bytes::<16>();
        hasher.dummy_hash = hasher
            .run(move || bcrypt::hash(secret, cost))
            .await
            .map_err(|_| "the hashing threads did not answer".to_string())?
            .map_err(|e| e.to_string())?;
        hasher.wait = Duration::from_secs(config.hash_wait);
        Ok(hasher)
    }

    /// A new hash of `password`; the caller has checked it with [`check_new_password`].
    pub async fn hash(&self, password: String) -> Result<String, Busy> {
        let cost = self.cost;
        // check_new_password refused anything over 72 bytes, so nothing is cut here (bcrypt's
        // non_truncating_* functions count the NUL terminator and would refuse 72 bytes).
        self.run(move || bcrypt::hash(password, cost))
            .await?
            .map_err(|_| Busy)
    }

    /// Whether `password` matches `hash`; with no hash, burns the same time and returns false.
    /// A password over 72 bytes never matches: no such password can have been set.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, Busy> {
        let fits = password.len() <= MAX_PASSWORD_BYTES;
        let (hash, real) = match hash {
            Some(h) if fits => (h, true),
            _ => (self.dummy_hash.clone(), false),
        };
        let matched = self
            .run(move || bcrypt::verify(password, &hash).unwrap_or(false))
            .await?;
        Ok(real && matched)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let (done, result) = tokio::sync::oneshot::channel();
        let pending = self.pending.clone();
        let job: Job = Box::new(move || {
            // A caller that gave up waiting has been answered busy: its hash is not worked out.
            let answer = (!done.is_closed()).then(work);
            // Off the queue before the answer goes: whoever it wakes sees the job done.
            pending.fetch_sub(1, Ordering::SeqCst);
            if let Some(answer) = answer {
                let _ = done.send(answer);
            }
        });
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.jobs.try_send(job).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        // Busy rather than a wait past `hash_wait` (a connection watchdog would cut it anyway).
        match tokio::time::timeout(self.wait, result).await {
            Ok(Ok(answer)) => Ok(answer),
            _ => Err(Busy),
        }
    }

    /// Hashing jobs queued or running now.
    pub fn queue_len(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }
}

/// Lowers the calling thread's scheduling priority to `nice` (Linux: `nice` is per thread).
fn lower_priority(nice: i32) {
    #[cfg(target_os = "linux")]
    if nice > 0 {
        // SAFETY: plain system calls on the calling thread's own id; no memory is shared.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            libc::setpriority(libc::PRIO_PROCESS, tid, nice);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// Why a new password is refused, or `None` when it is acceptable.
pub fn check_new_password(password: &str) -> Option<&'static str> {
    if password.len() < MIN_PASSWORD_BYTES {
        Some("password must be at least 8 bytes")
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some("password must be at most 72 bytes (bcrypt would silently truncate it)")
    } else if password.contains('\0') {
        Some("password must not contain NUL characters")
    } else {
        None
    }
}
