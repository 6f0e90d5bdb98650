//! Waking long-polling inboxes: a signal per recipient office, so an arrival wakes only the requests waiting
//! on that office's inbox (not every waiting inbox of the node). Entries exist only while someone waits.
//! At shutdown, [`Arrivals::close`] ends every wait at once, so a stop does not wait out the long-polls.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// The offices with waiting inbox requests on this node.
#[derive(Debug, Default)]
pub(crate) struct Arrivals {
    waiting: Mutex<HashMap<String, Arc<Notify>>>,
    /// Inbox requests waiting now, of all offices (the gauge `careplan_inbox_long_polls`).
    waiters: AtomicUsize,
    /// Set by [`Arrivals::close`]: no request waits any more.
    closed: AtomicBool,
}

/// Interest in one office's arrivals; dropping it forgets the office when nobody else waits on it.
#[derive(Debug)]
pub(crate) struct Watch<'a> {
    arrivals: &'a Arrivals,
    office: String,
    pub(crate) notify: Arc<Notify>,
}

impl Arrivals {
    /// Wakes the requests waiting on `office`'s inbox.
    pub(crate) fn signal(&self, office: &str) {
        let waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = waiting.get(office) {
            n.notify_waiters();
        }
    }

    /// Ends every wait now and every later one at once (the relay is shutting down): each waiting request
    /// answers with what it has and the cursor to go on from, instead of holding its connection until the drain
    /// time runs out.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        for n in waiting.values() {
            n.notify_waiters();
        }
    }

    /// Whether [`Arrivals::close`] was called. Checked after creating the `notified()` future of a wait, so a
    /// close between the check and the wait still wakes it.
    pub(crate) fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// How many inbox requests wait now.
    pub(crate) fn waiters(&self) -> usize {
        self.waiters.load(Ordering::Relaxed)
    }

    /// Starts watching `office`'s inbox.
    pub(crate) fn watch(&self, office: &str) -> Watch<'_> {
        self.waiters.fetch_add(1, Ordering::Relaxed);
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let notify = Arc::clone(waiting.entry(office.to_string()).or_default());
        Watch {
            arrivals: self,
            office: office.to_string(),
            notify,
        }
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        self.arrivals.waiters.fetch_sub(1, Ordering::Relaxed);
        let mut waiting = self
            .arrivals
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // The map's reference and ours: nobody else waits on this office.
        if Arc::strong_count(&self.notify) == 2 {
            waiting.remove(&self.office);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn close_wakes_every_waiting_office() {
        let arrivals = Arrivals::default();
        let a = arrivals.watch("1111111111");
        let b = arrivals.watch("2222222222");
        let wake_a = a.notify.notified();
        let wake_b = b.notify.notified();
        assert!(!arrivals.closed());
        arrivals.close();
        assert!(arrivals.closed());
        // Both futures were created before the close: they complete at once.
        wake_a.await;
        wake_b.await;
    }

    #[tokio::test]
    async fn wakes_only_the_office_signalled_and_forgets_idle_offices() {
        let arrivals = Arrivals::default();
        let a = arrivals.watch("1111111111");
        let b = arrivals.watch("2222222222");
        {
            let wake_a = a.notify.notified();
            let wake_b = b.notify.notified();
            tokio::pin!(wake_a, wake_b);
            wake_a.as_mut().enable();
            wake_b.as_mut().enable();
            arrivals.signal("1111111111");
            let short = std::time::Duration::from_millis(50);
            assert!(tokio::time::timeout(short, wake_a).await.is_ok());
            assert!(tokio::time::timeout(short, wake_b).await.is_err());
        }
        assert_eq!(arrivals.waiters(), 2);
        drop(a);
        drop(b);
        assert_eq!(arrivals.waiters(), 0);
        assert!(
            arrivals
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty()
        );
    }
}
