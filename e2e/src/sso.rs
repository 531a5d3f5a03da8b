//! A real single sign-on in front of the relay, as an operator sets it up:
//! Apache httpd with mod_auth_openidc (Debian's packages) as the proxy, and
//! PyPI's oidc-provider-mock as the OpenID Connect provider, all on loopback.
//!
//! The Apache configuration below is the README's recipe; keep them equal.
//! `cargo xtask test` installs both and passes their paths in `E2E_APACHE`,
//! `E2E_APACHE_MODULES` and `E2E_OIDC_PYTHON`.

use crate::{free_port, required, wait_until_up, Panel};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// The test-only RSA key the provider signs with (see `e2e/sso/provider.py`).
pub const PROVIDER_KEY_PEM: &[u8] = include_bytes!("../../relay/tests/keys/rsa-test-only.pem");
/// The provider's key ID for it.
pub const PROVIDER_KEY_ID: &str = "sso-test-rsa";
/// The client the proxy registers as, which is the ID token's audience.
pub const CLIENT_ID: &str = "adapty-lookup";

/// How the proxy tells the relay who signed in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// `X-Forwarded-Email`, set by the proxy over anything the browser sent.
    Header,
    /// The provider's ID token as `Authorization: Bearer …`, verified by the
    /// relay against the provider's JWKS.
    Jwt,
}

/// Where the panel lives on the proxy.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Root,
    /// `/tools/adapty/`, stripped by the proxy: the relay serves from `/`.
    StrippedByProxy,
    /// `/tools/adapty/`, passed on: the relay serves it with `--base-path`.
    RelayBasePath,
}

/// What the proxy answers an API call that has no session.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// A redirect to the provider's sign-in page (mod_auth_openidc's
    /// `OIDCUnAuthAction auth true`).
    Redirect,
    /// 401 (what mod_auth_openidc answers a `fetch` by default).
    Status401,
}

pub const PREFIX: &str = "/tools/adapty";

/// One way of deploying behind the proxy.
#[derive(Clone)]
pub struct Setup {
    pub identity: Identity,
    pub prefix: Prefix,
    pub unauthenticated: Unauthenticated,
    /// How long the provider's tokens are valid.
    pub token_lifetime: Duration,
    /// Access changes on, for the role [`CHANGES_ROLE`]: from the groups the
    /// proxy passes in `X-Forwarded-Groups` (identity-header mode), or from
    /// the ID token's `groups` claim (JWT mode).
    pub changes: bool,
    /// Adapty: the demo's stand-in, or an upstream answering from this
    /// script, one step per connection (`testkit::raw_upstream`).
    pub upstream: Option<Vec<crate::Raw>>,
}

/// The role that may change access when `Setup::changes` is on.
pub const CHANGES_ROLE: &str = "support-leads";

impl Default for Setup {
    fn default() -> Setup {
        Setup {
            identity: Identity::Header,
            prefix: Prefix::Root,
            unauthenticated: Unauthenticated::Status401,
            token_lifetime: Duration::from_secs(3600),
            changes: false,
            upstream: None,
        }
    }
}

pub struct SignedIn {
    /// The panel as the browser sees it: the proxy's URL with the prefix and `/`.
    pub panel: Panel,
    /// The proxy's origin, `http://127.0.0.1:PORT`.
    pub proxy: String,
    /// The relay itself, bypassing the proxy (as an attacker on the network would).
    pub relay: String,
    /// The provider's base URL, which is its issuer.
    pub provider_url: String,
    pub audit_log: PathBuf,
    apache: Apache,
    _provider: Child,
}

/// Apache's parent process. Stopped with SIGTERM, never SIGKILL: killed
/// outright, the parent would leave its workers behind, still listening.
struct Apache {
    config: PathBuf,
    child: Child,
}

impl Apache {
    async fn start(config: &Path, url: &str) -> Apache {
        let child = Command::new(required("E2E_APACHE"))
            .arg("-f")
            .arg(config)
            .arg("-DFOREGROUND")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start Apache");
        // Any answer will do: everything but the callback asks for a sign-in.
        wait_until_answering(url, "Apache").await;
        Apache {
            config: config.to_owned(),
            child,
        }
    }

    /// Asks Apache to stop and waits until it and its workers are gone.
    fn stop(&mut self) {
        let Some(pid) = self.child.id() else {
            return;
        };
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        for _ in 0..100 {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.start_kill();
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn wait_until_answering(url: &str, what: &str) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    for _ in 0..150 {
        if client.get(url).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not come up at {url}");
}

impl SignedIn {
    /// The provider, the relay in demo mode and Apache in front of it, and a
    /// browser that has not signed in yet.
    pub async fn start(setup: Setup) -> SignedIn {
        let Setup {
            identity,
            prefix,
            unauthenticated,
            token_lifetime,
            changes,
            upstream,
        } = setup;
        let dir = std::env::temp_dir().join(format!("e2e-sso-{}", free_port()));
        std::fs::create_dir_all(&dir).expect("a folder for the proxy");
        let provider_port = free_port();
        let provider_url = format!("http://127.0.0.1:{provider_port}");
        let key = dir.join("provider-key.pem");
        std::fs::write(&key, PROVIDER_KEY_PEM).expect("write the provider's key");
        let provider = Command::new(required("E2E_OIDC_PYTHON"))
            .arg(required("E2E_OIDC_PROVIDER"))
            .arg(&key)
            .args(["--port", &provider_port.to_string()])
            .args(["--token-max-age", &token_lifetime.as_secs().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the OpenID Connect provider");
        wait_until_up(
            &format!("{provider_url}/jwks"),
            "the OpenID Connect provider",
        )
        .await;

        let proxy_port = free_port();
        let proxy = format!("http://127.0.0.1:{proxy_port}");
        let audit_log = dir.join("audit.jsonl");
        let mut relay_env = Vec::new();
        let adapty = match upstream {
            None => vec!["--demo".to_owned()],
            Some(script) => {
                let (url, _) = testkit::raw_upstream(script).await;
                relay_env.push(("ADAPTY_API_KEY", "secret_live_e2e"));
                vec!["--api-base".to_owned(), url]
            }
        };
        let mut relay_args = adapty;
        relay_args.extend([
            "--public-origin".to_owned(),
            proxy.clone(),
            "--audit-log".to_owned(),
            audit_log.display().to_string(),
        ]);
        match identity {
            Identity::Header => {
                relay_args.extend(["--identity-header".into(), "X-Forwarded-Email".into()]);
            }
            Identity::Jwt => relay_args.extend([
                "--jwt-header".into(),
                "Authorization".into(),
                "--jwks-url".into(),
                format!("{provider_url}/jwks"),
                "--jwt-audience".into(),
                CLIENT_ID.into(),
                "--jwt-issuer".into(),
                provider_url.clone(),
            ]),
        }
        if prefix == Prefix::RelayBasePath {
            relay_args.extend(["--base-path".into(), PREFIX.into()]);
        }
        if changes {
            relay_args.extend([
                "--allow-access-changes".into(),
                "--changes-role".into(),
                CHANGES_ROLE.into(),
            ]);
            if identity == Identity::Header {
                relay_args.extend(["--roles-header".into(), "X-Forwarded-Groups".into()]);
            }
        }
        let relay_args: Vec<&str> = relay_args.iter().map(String::as_str).collect();
        let mut panel = Panel::start(&relay_args, &relay_env).await;
        let relay = panel.base_url.clone();

        let config = dir.join("httpd.conf");
        let (path, backend) = match prefix {
            Prefix::Root => ("/".to_owned(), format!("{relay}/")),
            Prefix::StrippedByProxy => (format!("{PREFIX}/"), format!("{relay}/")),
            Prefix::RelayBasePath => (PREFIX.to_owned(), format!("{relay}{PREFIX}")),
        };
        std::fs::write(
            &config,
            apache_config(&ApacheSite {
                dir: &dir,
                port: proxy_port,
                provider: &provider_url,
                identity,
                unauthenticated,
                roles: changes && identity == Identity::Header,
                path: &path,
                backend: &backend,
                strip_prefix: prefix == Prefix::StrippedByProxy,
            }),
        )
        .expect("write the Apache configuration");
        let apache = Apache::start(&config, &proxy).await;

        panel.base_url = match prefix {
            Prefix::Root => proxy.clone(),
            _ => format!("{proxy}{PREFIX}"),
        };
        SignedIn {
            panel,
            proxy,
            relay,
            provider_url,
            audit_log,
            apache,
            _provider: provider,
        }
    }

    /// Signs in at the provider's form, where the proxy has sent the browser.
    pub async fn sign_in_as(&self, email: &str) {
        let subject = self.panel.wait_for("input[name=sub]").await;
        subject.send_keys(email).await.expect("type the subject");
        self.panel
            .click("button[type=submit][value=authorize], button[type=submit]:not([value=deny])")
            .await;
    }

    /// Stops and restarts Apache: its sessions live in shared memory, so it
    /// forgets every sign-in, as when a session ends on the proxy's side.
    pub async fn proxy_forgets_every_session(&mut self) {
        self.apache.stop();
        let config = self.apache.config.clone();
        self.apache = Apache::start(&config, &self.proxy).await;
    }

    /// What the provider says of `subject` when they sign in: their email
    /// and groups, e.g. `{"email": "ann@example.com", "groups": ["support"]}`.
    pub async fn set_claims(&self, subject: &str, claims: serde_json::Value) {
        let response = reqwest::Client::new()
            .put(format!("{}/users/{subject}", self.provider_url))
            .header("content-type", "application/json")
            .body(claims.to_string())
            .send()
            .await
            .expect("reach the provider");
        assert!(
            response.status().is_success(),
            "the provider refused the claims: {}",
            response.status()
        );
    }

    /// The audit log's lines, as JSON, without the line that opens the
    /// file (the chain's, not a request's).
    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.audit_log)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line).expect("an audit line is JSON")
            })
            .filter(|line| line["outcome"] != "log_opened")
            .collect()
    }
}

struct ApacheSite<'a> {
    dir: &'a Path,
    port: u16,
    provider: &'a str,
    identity: Identity,
    unauthenticated: Unauthenticated,
    /// Pass the user's groups in `X-Forwarded-Groups`.
    roles: bool,
    /// Where the panel is on the proxy, and where that goes on the relay.
    path: &'a str,
    backend: &'a str,
    strip_prefix: bool,
}

/// The proxy's configuration: README's recipe, on loopback ports.
fn apache_config(site: &ApacheSite) -> String {
    let modules = required("E2E_APACHE_MODULES");
    let module = |name: &str, file: &str| {
        format!(
            "LoadModule {name}_module {}\n",
            modules.join(format!("mod_{file}.so")).display()
        )
    };
    let modules: String = [
        ("mpm_event", "mpm_event"),
        ("authz_core", "authz_core"),
        ("authz_user", "authz_user"),
        ("authn_core", "authn_core"),
        ("alias", "alias"),
        ("headers", "headers"),
        ("proxy", "proxy"),
        ("proxy_http", "proxy_http"),
        ("auth_openidc", "auth_openidc"),
    ]
    .iter()
    .map(|(name, file)| module(name, file))
    .collect();
    // Apache started as root serves as an unprivileged user.
    let user = if is_root() {
        "User www-data\nGroup www-data\n"
    } else {
        ""
    };
    let dir = site.dir.display();
    let port = site.port;
    let provider = site.provider;
    let identity = match site.identity {
        Identity::Header => {
            "# The signed-in user's email, replacing any X-Forwarded-Email the browser sent.\n\
             RequestHeader set X-Forwarded-Email \"%{OIDC_CLAIM_email}e\"\n"
        }
        Identity::Jwt => {
            "# The ID token, for the relay to verify; the session ends when the token does.\n\
             OIDCPassIDTokenAs serialized\n\
             OIDCSessionMaxDuration 0\n\
             RequestHeader set Authorization \"Bearer %{OIDC_id_token}e\"\n"
        }
    };
    let roles = if site.roles {
        "# The user's groups (a list claim, joined with commas), replacing any the browser sent.\n\
         RequestHeader set X-Forwarded-Groups \"%{OIDC_CLAIM_groups}e\"\n"
    } else {
        ""
    };
    let unauthenticated = match site.unauthenticated {
        Unauthenticated::Redirect => "OIDCUnAuthAction auth true",
        Unauthenticated::Status401 => "OIDCUnAuthAction 401",
    };
    let path = site.path;
    let backend = site.backend;
    let api = format!("{}/api/", path.trim_end_matches('/'));
    let bare_prefix = if site.strip_prefix {
        format!(
            "# The prefix without its slash, to the panel.\nRedirectMatch 308 ^{}$ {}\n",
            path.trim_end_matches('/'),
            path
        )
    } else {
        String::new()
    };
    format!(
        "ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile {dir}/httpd.pid
DefaultRuntimeDir {dir}
ErrorLog {dir}/error.log
LogLevel warn
{user}{modules}
OIDCProviderMetadataURL {provider}/.well-known/openid-configuration
OIDCClientID {CLIENT_ID}
OIDCClientSecret not-checked-by-the-test-provider
OIDCRedirectURI http://127.0.0.1:{port}/oauth2callback
OIDCCryptoPassphrase e2e-only-passphrase
OIDCScope \"openid email\"
{identity}{roles}
<Location />
    AuthType openid-connect
    Require valid-user
</Location>
# API calls without a session: the panel shows that the sign-in expired.
<Location {api}>
    {unauthenticated}
</Location>

{bare_prefix}ProxyPass /oauth2callback !
ProxyPass {path} {backend}
ProxyPassReverse {path} {backend}
"
    )
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}
