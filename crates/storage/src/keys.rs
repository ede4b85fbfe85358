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

/// A new object for the chunk of an upload that starts at `offset`. Every write gets its own
/// key (the nonce), so objects are never overwritten: two requests racing to write the same
/// chunk leave two objects, which `list_parts` refuses as an overlap, instead of one whose
/// bytes differ from what either request hashed.
pub(crate) fn upload_part_key(upload_id: &str, offset: u64) -> Path {
    let nonce = uuid::Uuid::new_v4().simple();
    Path::from(format!("uploads/{upload_id}/{offset:020}-{nonce}"))
}

/// The offset a part key encodes, if it is one.
pub(crate) fn part_offset(key: &Path) -> Option<u64> {
    let name = key.filename()?;
    name.split_once('-')
        .map_or(name, |(offset, _)| offset)
        .parse()
        .ok()
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
        assert!(k.as_ref().starts_with("uploads/abc/00000000000000000042-"));
        assert_eq!(part_offset(&k), Some(42));
        assert_ne!(upload_part_key("abc", 42), k);
    }
}
