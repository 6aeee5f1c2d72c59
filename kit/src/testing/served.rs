//! The app launched for real on a free loopback port, from its own thread and runtime, for the
//! tests that need a real socket (a browser; a request Rocket's local client cannot send). It runs
//! on its own SQLite database and shuts down on drop.

use super::AppFn;
use std::sync::mpsc;
use std::time::Duration;

pub struct ServedApp {
    pub port: u16,
    shutdown: rocket::Shutdown,
    thread: Option<std::thread::JoinHandle<()>>,
    _db: tempfile::TempDir,
}

impl ServedApp {
    pub fn launch(build: AppFn) -> ServedApp {
        ServedApp::launch_with(build, rocket::figment::Figment::new())
    }

    /// The app with `settings` merged over the test defaults (e.g. `connections.max`).
    pub fn launch_with(build: AppFn, settings: rocket::figment::Figment) -> ServedApp {
        let db = tempfile::tempdir().expect("temp dir");
        let figment = rocket::Config::figment()
            .merge(("address", "127.0.0.1"))
            .merge(("port", 0))
            .merge(("log_level", "off"))
            .merge((
                "databases.db.url",
                format!("sqlite://{}/app.sqlite3", db.path().display()),
            ))
            .merge(("auth.bcrypt_cost", 4))
            .merge(("auth.totp_key", super::TOTP_KEY))
            .merge(("auth.secure_cookie", false))
            .merge(settings);
        let (tx, rx) = mpsc::channel();
        let rocket = build(figment).attach(rocket::fairing::AdHoc::on_liftoff(
            "Report port",
            move |rocket| {
                Box::pin(async move {
                    let _ = tx.send((rocket.config().port, rocket.shutdown()));
                })
            },
        ));
        let thread = std::thread::spawn(move || {
            if let Err(e) = rocket::execute(rocket.launch()) {
                panic!("the app failed: {e}");
            }
        });
        let (port, shutdown) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the app launches");
        ServedApp {
            port,
            shutdown,
            thread: Some(thread),
            _db: db,
        }
    }
}

impl Drop for ServedApp {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
