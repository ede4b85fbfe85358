//! The client's stored login: `$XDG_CONFIG_HOME/berth/config.yaml` (default
//! `~/.config/berth/config.yaml`), mode 0600 in a 0700 directory, written atomically.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::ClientError;

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Where the configuration lives, from `XDG_CONFIG_HOME` or `HOME`.
pub fn path_from(xdg: Option<String>, home: Option<String>) -> Result<PathBuf, ClientError> {
    let base = match (
        xdg.filter(|x| !x.is_empty()),
        home.filter(|h| !h.is_empty()),
    ) {
        (Some(x), _) => PathBuf::from(x),
        (None, Some(h)) => Path::new(&h).join(".config"),
        (None, None) => {
            return Err(ClientError::new(
                "cannot find the configuration directory: set HOME or XDG_CONFIG_HOME",
            ))
        }
    };
    Ok(base.join("berth").join("config.yaml"))
}

pub fn path() -> Result<PathBuf, ClientError> {
    path_from(
        std::env::var("XDG_CONFIG_HOME").ok(),
        std::env::var("HOME").ok(),
    )
}

pub fn load(path: &Path) -> Result<ClientConfig, ClientError> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(ClientConfig::default()),
        Ok(text) => serde_yaml_ng::from_str(&text).map_err(|e| {
            ClientError::new(format!(
                "{} is not a valid berth configuration ({e}): fix or remove it and run berth login",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ClientConfig::default()),
        Err(e) => Err(ClientError::new(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Writes the configuration readable by its owner only: a temporary file created 0600 in the
/// same directory, then renamed over the old one.
pub fn save(path: &Path, config: &ClientConfig) -> Result<(), ClientError> {
    let fail = |what: &str, e: std::io::Error| {
        ClientError::new(format!("cannot {what} {}: {e}", path.display()))
    };
    let dir = path
        .parent()
        .ok_or_else(|| ClientError::new(format!("{} has no directory", path.display())))?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| fail("create the directory of", e))?;
    let text = serde_yaml_ng::to_string(config)
        .map_err(|e| ClientError::new(format!("cannot encode the configuration: {e}")))?;
    let tmp = dir.join(format!(".config.yaml.{}", std::process::id()));
    // Left behind by an earlier process with the same id that was killed mid-write.
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(|e| fail("write", e))?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|_| file.sync_all())
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("write", e));
    }
    // The rename itself survives a crash once the directory is synced (best effort).
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_follows_xdg_then_home() {
        assert_eq!(
            path_from(Some("/x".into()), Some("/h".into())).unwrap(),
            PathBuf::from("/x/berth/config.yaml")
        );
        assert_eq!(
            path_from(None, Some("/h".into())).unwrap(),
            PathBuf::from("/h/.config/berth/config.yaml")
        );
        assert!(path_from(None, None).is_err());
    }

    #[test]
    fn saves_owner_only_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth").join("config.yaml");
        let c = ClientConfig {
            server: Some("http://h:5000".into()),
            user: Some("u".into()),
            token: Some("sha256~t".into()),
        };
        save(&path, &c).unwrap();
        assert_eq!(load(&path).unwrap(), c);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        save(&path, &ClientConfig::default()).unwrap();
        assert_eq!(load(&path).unwrap(), ClientConfig::default());
        assert_eq!(
            load(&dir.path().join("missing")).unwrap(),
            ClientConfig::default()
        );
    }
}
