//! What a mail is: its templates' name, its label in the log and the metrics, and whether it is
//! a notice (`notices = false` turns those off).

/// The kinds of mail. Each is rendered from the template `mail/<name>.j2` in the template folder,
/// `<name>` being [`MailKind::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailKind {
    /// A link that verifies an address (context: `link`).
    VerifyEmail,
    /// A link that sets a new password (context: `link`).
    PasswordReset,
    /// To the old address: a change to another was asked (context: `new_email`, masked).
    EmailChangeRequested,
    /// Notice: the password was changed or reset.
    PasswordChanged,
    /// Notice: a sign-in from a new device (context: `device`, `ip`).
    NewDeviceSignIn,
    /// Notice: a personal access token was created (context: `token_name`).
    TokenCreated,
    /// Notice: two-factor authentication was turned on or off, or a recovery code used
    /// (context: `change`).
    TwoFactorChanged,
    /// An app's own mail, from its own template `mail/<name>.j2`; a notice (`notices = false`
    /// turns it off). The name is a label: lower case, no secret.
    App(&'static str),
}

impl MailKind {
    /// The kit's own kinds, whose templates must exist for the app to start.
    pub const BUILT_IN: [MailKind; 7] = [
        MailKind::VerifyEmail,
        MailKind::PasswordReset,
        MailKind::EmailChangeRequested,
        MailKind::PasswordChanged,
        MailKind::NewDeviceSignIn,
        MailKind::TokenCreated,
        MailKind::TwoFactorChanged,
    ];

    /// The templates' name, and the label in the log and the metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            MailKind::VerifyEmail => "verify_email",
            MailKind::PasswordReset => "password_reset",
            MailKind::EmailChangeRequested => "email_change_requested",
            MailKind::PasswordChanged => "password_changed",
            MailKind::NewDeviceSignIn => "new_device_sign_in",
            MailKind::TokenCreated => "token_created",
            MailKind::TwoFactorChanged => "two_factor_changed",
            MailKind::App(name) => name,
        }
    }

    /// Whether `notices = false` keeps it from being sent: every kind but the two that carry a
    /// link the reader asked for (an app's own kinds are notices).
    pub fn is_notice(&self) -> bool {
        !matches!(self, MailKind::VerifyEmail | MailKind::PasswordReset)
    }
}

impl std::fmt::Display for MailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
