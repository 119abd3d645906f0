//! Opening the files a user's config directory holds without trusting what is there: no
//! symlink followed where a file is created or locked, nothing read but regular files, never
//! more than a cap, directories created private.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;
use std::time::{Duration, Instant};

/// How often a waiting process retries a lock.
const LOCK_POLL: Duration = Duration::from_millis(5);

/// Reads `path` if it is a regular file of at most `max` bytes; `Ok(None)` when it does not
/// exist. A FIFO, a device (a symlink to `/dev/zero`), a directory or a larger file is an
/// error, found without blocking and without reading it whole.
///
/// # Errors
///
/// The I/O error, or [`io::ErrorKind::InvalidData`] for a file that is not regular or too large.
pub fn read_capped(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match open_nonblocking(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(invalid("is not a regular file"));
    }
    if meta.len() > max {
        return Err(invalid(&format!("is larger than {max} bytes")));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(invalid(&format!("is larger than {max} bytes")));
    }
    Ok(Some(bytes))
}

/// Opens (creating it, mode 0600) a lock file, refusing a symlink or anything but a regular
/// file at its path, so a planted link can neither change another file's mode nor create a
/// file elsewhere.
///
/// # Errors
///
/// The I/O error, or [`io::ErrorKind::InvalidData`] for something other than a regular file.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    no_follow(&mut options);
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(invalid("is not a regular file"));
    }
    restrict(&file)?;
    Ok(file)
}

/// Takes the exclusive advisory lock of the lock file at `path` (opened as
/// [`open_lock_file`] opens it), polling until `timeout` passes: it never proceeds without
/// the lock. The lock is held while the returned file is open and released when it is closed,
/// also when the process dies.
///
/// # Errors
///
/// [`io::ErrorKind::TimedOut`] when another holder kept the lock for `timeout`, or the I/O
/// error.
pub fn lock_exclusive(path: &Path, timeout: Duration) -> io::Result<File> {
    let file = open_lock_file(path)?;
    let started = Instant::now();
    loop {
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => return Ok(file),
            Err(fs4::TryLockError::WouldBlock) if started.elapsed() < timeout => {
                std::thread::sleep(LOCK_POLL);
            }
            Err(fs4::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "another process holds the lock",
                ));
            }
            Err(fs4::TryLockError::Error(e)) => return Err(e),
        }
    }
}

/// Creates `dir` and its missing parents, readable by the owner only (0700 on Unix).
///
/// # Errors
///
/// The I/O error.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Whether a file may be read by its group or by others (Unix; `false` elsewhere).
pub fn readable_by_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("the file {what}"))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // Non-blocking, so opening a FIFO returns at once; reads of a regular file are unaffected.
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

#[cfg(unix)]
fn no_follow(options: &mut OpenOptions) {
    use std::os::unix::fs::OpenOptionsExt;
    options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
}

#[cfg(not(unix))]
fn no_follow(_options: &mut OpenOptions) {}

#[cfg(unix)]
fn restrict(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_file: &File) -> io::Result<()> {
    Ok(())
}
