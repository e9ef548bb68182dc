//! Checkpointing the write-ahead log on another thread while an import writes.
//!
//! SQLite checkpoints on the committing thread: after a commit leaves the WAL over 1,000 pages,
//! the writer copies those pages into the database file before it can begin the next
//! transaction. In a bulk import that was an eighth of the writer's time (measured), and the
//! single writer is what limits an import. A [`Checkpointer`] turns the automatic checkpoint
//! off on the writer's connection for the import and checkpoints from a second connection on
//! another core. The same thread frees each written batch, which is the writer's time too.
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

/// SQLite's default `wal_autocheckpoint`, restored when the import ends.
const AUTOCHECKPOINT_PAGES: i64 = 1000;

/// Listings written between full checkpoints. The WAL can only start again from its beginning
/// once every frame is in the database file; waiting for that every so often keeps the WAL
/// file to about this many listings' pages (~150 MB) however large the import.
const LISTINGS_PER_FULL_CHECKPOINT: usize = 100_000;

enum Chore<T> {
    /// A batch was committed: free what it was written from, then checkpoint.
    Committed(T),
    /// Checkpoint everything committed so far, then say so.
    Drain(SyncSender<()>),
}

/// The checkpointing thread of one import; `T` is what a committed batch was written from.
pub struct Checkpointer<'scope, T: Send + 'scope> {
    /// The thread and its inbox; `None` for an in-memory database, which has no WAL.
    running: Option<(SyncSender<Chore<T>>, ScopedJoinHandle<'scope, ()>)>,
    since_drain: usize,
}

impl<'scope, T: Send + 'scope> Checkpointer<'scope, T> {
    /// Start checkpointing for `writer`. Without a file (an in-memory database) nothing is
    /// started and batches are freed where they are.
    pub fn start<'env>(scope: &'scope Scope<'scope, 'env>, writer: &Connection) -> Result<Self> {
        let path = writer.path().filter(|p| !p.is_empty()).map(PathBuf::from);
        let Some(path) = path else {
            return Ok(Checkpointer {
                running: None,
                since_drain: 0,
            });
        };
        let own = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        own.pragma_update(None, "busy_timeout", 5000)?;
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        // One batch waiting is enough: the writer never waits on a free slot for long.
        let (chores, inbox) = sync_channel::<Chore<T>>(1);
        let thread = std::thread::Builder::new()
            .name("signpost-checkpoint".into())
            .spawn_scoped(scope, move || {
                for chore in inbox {
                    match chore {
                        Chore::Committed(spent) => {
                            drop(spent);
                            // A failed checkpoint loses nothing: the frames stay in the WAL
                            // and the next checkpoint copies them.
                            let _ = checkpoint(&own, "PASSIVE");
                        }
                        Chore::Drain(done) => {
                            let _ = checkpoint(&own, "PASSIVE");
                            let _ = done.send(());
                        }
                    }
                }
                // The writer has finished: copy the rest and give the WAL file's space back.
                let _ = checkpoint(&own, "TRUNCATE");
            })
            .expect("the operating system starts a thread");
        Ok(Checkpointer {
            running: Some((chores, thread)),
            since_drain: 0,
        })
    }

    /// A batch of `listings` listings, written from `spent`, has been committed.
    pub fn committed(&mut self, spent: T, listings: usize) {
        let Some((chores, _)) = &self.running else {
            return;
        };
        // Sending fails only if the thread has gone, which it does not do while its inbox is open.
        let _ = chores.send(Chore::Committed(spent));
        self.since_drain += listings;
        if self.since_drain >= LISTINGS_PER_FULL_CHECKPOINT {
            self.since_drain = 0;
            let (done, wait) = sync_channel(1);
            if chores.send(Chore::Drain(done)).is_ok() {
                let _ = wait.recv();
            }
        }
    }

    /// Wait for the last checkpoint and give `writer` its automatic checkpoint back.
    pub fn finish(self, writer: &Connection) -> Result<()> {
        if let Some((chores, thread)) = self.running {
            drop(chores); // Closing the inbox tells the thread the writer has finished.
            thread.join().expect("the checkpoint thread does not panic");
            writer.pragma_update(None, "wal_autocheckpoint", AUTOCHECKPOINT_PAGES)?;
        }
        Ok(())
    }
}

fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<()> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |_| Ok(()))
}
