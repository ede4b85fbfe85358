//! Fast reads from the filesystem backend.
//!
//! `object_store`'s local reader hands out 8 KiB chunks, each read on the blocking pool; serving
//! large blobs that way costs several times more CPU than the copy itself. For the filesystem
//! backend we read the file on one blocking thread in 2 MiB chunks and hand them to the response
//! through a bounded channel of two, so memory stays at three chunks per reader at most.

use bytes::Bytes;
use futures::StreamExt;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use crate::store::{ByteStream, StorageError};

const CHUNK: usize = 2 * 1024 * 1024;

pub(crate) fn stream_file(path: PathBuf, start: u64, len: u64) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, StorageError>>(2);
    tokio::task::spawn_blocking(move || {
        let run = || -> std::io::Result<()> {
            let mut file = std::fs::File::open(&path)?;
            file.seek(SeekFrom::Start(start))?;
            let mut left = len;
            while left > 0 {
                let want = left.min(CHUNK as u64);
                // read_to_end fills the spare capacity without zeroing it first.
                let mut buf = Vec::with_capacity(want as usize);
                (&mut file).take(want).read_to_end(&mut buf)?;
                if buf.len() as u64 != want {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "blob file is shorter than recorded",
                    ));
                }
                left -= want;
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return Ok(()); // the reader went away
                }
            }
            Ok(())
        };
        if let Err(e) = run() {
            let _ = tx.blocking_send(Err(StorageError::Io(e.to_string())));
        }
    });
    tokio_stream_from(rx)
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, StorageError>>,
) -> ByteStream {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}
