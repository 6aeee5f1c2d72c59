//! Mail in tests: the app's [`Mailer`], a sender pass run now (no waiting for the background
//! task), and a restart of the app on the same database.

use super::TestApp;
use crate::mail::{Mailer, Pass};

impl TestApp {
    /// The app's mail machinery.
    pub fn mailer(&self) -> &Mailer {
        self.client.rocket().state::<Mailer>().expect("mail state")
    }

    /// Sends what the outbox holds that is due at the app's clock, now, and answers what became
    /// of it. A pass of the background task under way is waited for first.
    pub async fn deliver_mail(&self) -> Pass {
        self.mailer()
            .send_due()
            .await
            .expect("the outbox is readable")
    }

    /// The app stopped and built again on the same database, configuration and clock, as after
    /// a restart of the server.
    pub async fn restart(self) -> TestApp {
        let TestApp {
            build,
            client,
            db,
            url,
            auth_overrides,
            other_overrides,
            clock,
        } = self;
        client.rocket().shutdown().notify();
        drop(client);
        let mut app = TestApp::configured(
            build,
            db,
            url,
            auth_overrides,
            other_overrides.clone(),
            clock,
        )
        .await;
        app.other_overrides = other_overrides;
        app
    }
}
