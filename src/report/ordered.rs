//! Rendering a long listing on every core and writing it in order: the items are cut into chunks, worker threads
//! render chunks into byte buffers, and the calling thread hands the buffers to a sink in item order as they
//! complete. A worker takes a buffer from a small pool before it claims a chunk and the sink's caller returns it
//! after writing, so memory is bounded by the pool (a few chunks), never by the size of the output.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

/// Buffers per worker: one being rendered, one waiting to be written, one spare for a worker that runs ahead.
const BUFFERS_PER_WORKER: usize = 3;

/// Render `items` in chunks of `chunk` with `render` (given the index of the chunk's first item and its items, it
/// appends the chunk's bytes to the buffer and returns a summary of them) and pass each chunk's bytes and summary to `sink` in item order. Work is spread over the
/// machine's cores when there are at least two chunks; the first error of `sink` stops the rendering and is
/// returned.
pub fn render_in_order<T, S>(
    items: &[T],
    chunk: usize,
    render: impl Fn(usize, &[T], &mut Vec<u8>) -> S + Sync,
    mut sink: impl FnMut(&[u8], S) -> io::Result<()>,
) -> io::Result<()>
where
    T: Sync,
    S: Send,
{
    let chunk = chunk.max(1);
    let chunks = items.len().div_ceil(chunk);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(chunks);
    if workers < 2 {
        let mut buf = Vec::new();
        for (i, part) in items.chunks(chunk).enumerate() {
            buf.clear();
            let summary = render(i * chunk, part, &mut buf);
            sink(&buf, summary)?;
        }
        return Ok(());
    }
    let pool = Pool {
        free: Mutex::new(
            (0..workers * BUFFERS_PER_WORKER)
                .map(|_| Vec::new())
                .collect(),
        ),
        returned: Condvar::new(),
        stop: AtomicBool::new(false),
    };
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, Vec<u8>, S)>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (pool, next, render) = (&pool, &next, &render);
            scope.spawn(move || {
                let _guard = StopOnPanic(pool);
                // A buffer first, then a chunk: the chunk the sink waits for is always held by a worker that has
                // a buffer for it, so the pool cannot run dry with everything waiting on it.
                while let Some(mut buf) = pool.take() {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= chunks {
                        pool.give(buf);
                        break;
                    }
                    buf.clear();
                    let part = &items[i * chunk..items.len().min((i + 1) * chunk)];
                    let summary = render(i * chunk, part, &mut buf);
                    if tx.send((i, buf, summary)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut want = 0usize;
        let mut result = Ok(());
        for (i, buf, summary) in rx.iter() {
            waiting.insert(i, (buf, summary));
            while let Some((buf, summary)) = waiting.remove(&want) {
                if result.is_ok() {
                    result = sink(&buf, summary);
                    if result.is_err() {
                        pool.stop();
                    }
                }
                pool.give(buf);
                want += 1;
            }
        }
        result
    })
}

/// Stops the other workers when a worker panics, so none waits forever for a buffer that chunk would have freed
/// (the scope then re-raises the panic).
struct StopOnPanic<'a>(&'a Pool);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

/// The buffers workers render into, and the stop flag a failed write raises.
struct Pool {
    free: Mutex<Vec<Vec<u8>>>,
    returned: Condvar,
    stop: AtomicBool,
}

impl Pool {
    /// A free buffer, waiting for one when all are in use; `None` once stopped.
    fn take(&self) -> Option<Vec<u8>> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(buf) = free.pop() {
                return Some(buf);
            }
            free = self.returned.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give(&self, buf: Vec<u8>) {
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(buf);
        self.returned.notify_one();
    }

    fn stop(&self) {
        // Under the lock, so a worker between its check and its wait cannot miss the wake-up.
        let _free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        self.stop.store(true, Ordering::Relaxed);
        self.returned.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::render_in_order;
    use std::io;

    fn render(start: usize, part: &[u32], buf: &mut Vec<u8>) -> usize {
        assert_eq!(part[0] as usize, start);
        for v in part {
            buf.extend_from_slice(format!("{v}\n").as_bytes());
        }
        part.len()
    }

    #[test]
    fn output_is_in_item_order_for_every_chunk_size() {
        let items: Vec<u32> = (0..1000).collect();
        let expected: String = items.iter().map(|v| format!("{v}\n")).collect();
        for chunk in [0, 1, 3, 7, 64, 999, 1000, 5000] {
            let mut out = Vec::new();
            let mut counted = 0;
            render_in_order(&items, chunk, render, |bytes, n| {
                out.extend_from_slice(bytes);
                counted += n;
                Ok(())
            })
            .unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), expected, "chunk {chunk}");
            assert_eq!(counted, items.len());
        }
        let mut calls = 0;
        render_in_order(&[] as &[u32], 4, render, |_, _| {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 0);
    }

    #[test]
    fn a_failed_write_stops_the_rendering_and_is_returned() {
        let items: Vec<u32> = (0..100_000).collect();
        let mut calls = 0;
        let r = render_in_order(&items, 10, render, |_, _| {
            calls += 1;
            if calls == 3 {
                Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
            } else {
                Ok(())
            }
        });
        assert_eq!(r.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_panicking_chunk_does_not_leave_the_others_waiting() {
        let items: Vec<u32> = (0..100_000).collect();
        let r = std::panic::catch_unwind(|| {
            render_in_order(
                &items,
                10,
                |start, part: &[u32], buf: &mut Vec<u8>| {
                    assert!(part[0] != 50, "chunk 5");
                    render(start, part, buf)
                },
                |_, _| Ok(()),
            )
        });
        assert!(r.is_err());
    }
}
