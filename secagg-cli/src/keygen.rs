//! `secagg keygen`: a client's long-term Ed25519 key pair. The secret key goes to a key
//! file readable only by its owner (mode 0600); the verifying key is printed, and
//! written next to it, as the client's roster line (`docs/networking.md`, "Client
//! authentication").

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use ed25519_dalek::SigningKey;
use zeroize::Zeroizing;

use secagg::crypto::rng::{os_rng, Rng};
use secagg::ClientId;
use secagg_net::roster::{key_file_text, roster_line};

/// `secagg keygen`: write a client's key pair.
#[derive(Args, Clone, Debug)]
pub struct KeygenArgs {
    /// The key file to write (the secret key; created with mode 0600). The roster line
    /// goes to the same path with `.pub` appended.
    #[arg(long)]
    pub out: PathBuf,
    /// The client id the roster line names.
    #[arg(long)]
    pub id: ClientId,
    /// Overwrite an existing key file.
    #[arg(long)]
    pub force: bool,
}

/// A fresh signing key from the operating system's randomness.
pub fn generate() -> SigningKey {
    let mut secret = Zeroizing::new([0u8; 32]);
    os_rng().fill_bytes(&mut secret[..]);
    SigningKey::from_bytes(&secret)
}

/// Writes `text` to `path`, readable and writable by its owner only, refusing to
/// replace an existing file unless `force`.
///
/// # Errors
/// The file's I/O error.
pub fn write_secret(path: &Path, text: &[u8], force: bool) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        open.mode(0o600);
        let mut file = open.open(path)?;
        // An existing file (--force) keeps its mode on open: set it before writing.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(text)?;
        file.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut file = open.open(path)?;
        file.write_all(text)?;
        file.sync_all()
    }
}

/// Runs `secagg keygen`: exit status 0, or 2 when a file cannot be written.
pub fn run(args: &KeygenArgs) -> ExitCode {
    let key = generate();
    let line = roster_line(args.id, &key.verifying_key());
    if let Err(e) = write_secret(&args.out, key_file_text(&key).as_bytes(), args.force) {
        eprintln!("secagg keygen: error: {}: {e}", args.out.display());
        return ExitCode::from(2);
    }
    let mut public = args.out.clone().into_os_string();
    public.push(".pub");
    let public = PathBuf::from(public);
    if let Err(e) = std::fs::write(&public, format!("{line}\n")) {
        eprintln!("secagg keygen: error: {}: {e}", public.display());
        return ExitCode::from(2);
    }
    println!("{line}");
    ExitCode::SUCCESS
}
