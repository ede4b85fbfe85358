//! Typed construction of every object key Berth writes.

use berth_oci::Digest;
use object_store::path::Path;

/// Where a composed or promoted blob is stored.
pub fn blob_key(digest: &Digest) -> Path {
    let hex = digest.hex();
    Path::from(format!(
        "blobs/{}/{}/{}",
        digest.algorithm().as_str(),
        &hex[..2],
        hex
    ))
}

/// The prefix holding every chunk of one upload.
pub fn upload_prefix(upload_id: &str) -> Path {
    Path::from(format!("uploads/{upload_id}"))
}

/// The object holding the chunk of an upload that starts at `offset`.
pub fn upload_part_key(upload_id: &str, offset: u64) -> Path {
    Path::from(format!("uploads/{upload_id}/{offset:020}"))
}

/// The offset a part key encodes, if it is one.
pub(crate) fn part_offset(key: &Path) -> Option<u64> {
    key.filename()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable() {
        let d = Digest::sha256(b"");
        assert_eq!(
            blob_key(&d).as_ref(),
            "blobs/sha256/e3/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let k = upload_part_key("abc", 42);
        assert_eq!(k.as_ref(), "uploads/abc/00000000000000000042");
        assert_eq!(part_offset(&k), Some(42));
    }
}
