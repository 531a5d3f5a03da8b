//! How many bytes of Adapty's answers the relay holds at once, for all
//! clients together. A profile is read whole (to check it before passing it
//! on) and held until the client has taken it: without a bound, clients
//! that ask for big profiles and never read would make the relay hold as
//! many as they like, until the write timeout.
//!
//! Before Adapty is asked, a lookup reserves a little room, waiting a
//! little for it when the budget is spent: so a relay full of answers that
//! no one reads asks Adapty for nothing more. When Adapty's answer turns out
//! larger (its Content-Length, or the body as it grows when the length is
//! not given), the room must be free at once, or the lookup gets 503
//! `busy`: it never waits while holding room, so lookups cannot wait on
//! each other, nor leave Adapty's answer waiting on the connection.

use crate::error::RelayError;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a lookup waits for room before it is told the relay is busy.
const WAIT_FOR_ROOM: Duration = Duration::from_secs(2);
/// The room reserved before Adapty is asked: most profiles fit in it.
pub const FIRST_ROOM_BYTES: usize = 256 * 1024;
/// What a lookup turned away for want of room is told to wait.
const RETRY_AFTER_SECS: u64 = 5;
/// The slice of an answer handed to the connection at a time.
const SLICE_BYTES: usize = 64 * 1024;
/// Room is counted in KiB, so that a budget of gigabytes fits the
/// semaphore's permit count.
const UNIT: usize = 1024;

#[derive(Clone)]
pub struct Budget {
    room: Arc<Semaphore>,
}

/// Room held for one answer; given back when dropped.
pub struct Reservation {
    permit: OwnedSemaphorePermit,
}

impl Budget {
    pub fn new(bytes: NonZeroUsize) -> Budget {
        Budget {
            room: Arc::new(Semaphore::new(bytes.get().div_ceil(UNIT))),
        }
    }

    /// Room for a lookup about to ask Adapty, waiting a little when the
    /// budget is spent: nothing is held while waiting.
    pub async fn reserve(&self) -> Result<Reservation, RelayError> {
        let units = FIRST_ROOM_BYTES.div_ceil(UNIT) as u32;
        let permit =
            tokio::time::timeout(WAIT_FOR_ROOM, self.room.clone().acquire_many_owned(units))
                .await
                .map_err(|_| busy())?
                .expect("the semaphore is never closed");
        Ok(Reservation { permit })
    }

    /// Grows `reservation` to cover `bytes` in all, if the room is free now.
    pub fn grow(&self, reservation: &mut Reservation, bytes: usize) -> Result<(), RelayError> {
        let held = reservation.permit.num_permits();
        let more = bytes.div_ceil(UNIT).saturating_sub(held);
        if more == 0 {
            return Ok(());
        }
        let more = u32::try_from(more).map_err(|_| busy())?;
        let permit = self
            .room
            .clone()
            .try_acquire_many_owned(more)
            .map_err(|_| busy())?;
        reservation.permit.merge(permit);
        Ok(())
    }
}

impl Reservation {
    /// Gives back what an answer of `bytes` does not need.
    pub fn shrink_to(&mut self, bytes: usize) {
        let spare = self
            .permit
            .num_permits()
            .saturating_sub(bytes.div_ceil(UNIT));
        drop(self.permit.split(spare));
    }
}

fn busy() -> RelayError {
    tracing::warn!("the memory for answers is spent: a lookup was turned away");
    RelayError::Busy {
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

/// An answer's body that keeps its room reserved until the connection has
/// taken its last slice. Slices are copies, so that a client that stops
/// reading pins a slice, never the whole answer.
pub struct HeldBody {
    rest: Bytes,
    reservation: Option<Reservation>,
}

impl HeldBody {
    pub fn body(bytes: Bytes, reservation: Reservation) -> Body {
        Body::new(HeldBody {
            rest: bytes,
            reservation: Some(reservation),
        })
    }
}

impl http_body::Body for HeldBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        if this.rest.is_empty() {
            this.reservation = None;
            return Poll::Ready(None);
        }
        let slice = if this.rest.len() <= SLICE_BYTES {
            // The last slice: the whole answer goes with it, and its room.
            this.reservation = None;
            let last = Bytes::copy_from_slice(&this.rest);
            this.rest = Bytes::new();
            last
        } else {
            let slice = Bytes::copy_from_slice(&this.rest[..SLICE_BYTES]);
            this.rest = this.rest.slice(SLICE_BYTES..);
            slice
        };
        Poll::Ready(Some(Ok(Frame::data(slice))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn room_is_held_until_the_last_slice_is_taken() {
        let total = 4 * FIRST_ROOM_BYTES;
        let budget = Budget::new(NonZeroUsize::new(total).unwrap());
        let units = total / UNIT;
        let mut small = budget.reserve().await.unwrap();
        small.shrink_to(10 * 1024);
        assert_eq!(
            budget.room.available_permits(),
            units - 10,
            "a small answer keeps little"
        );
        drop(small);
        let mut first = budget.reserve().await.unwrap();
        budget.grow(&mut first, 3 * FIRST_ROOM_BYTES).unwrap();
        budget.grow(&mut first, FIRST_ROOM_BYTES).unwrap(); // Already covered.
        let mut second = budget.reserve().await.unwrap();
        assert_eq!(budget.room.available_permits(), 0);
        assert!(
            matches!(
                budget.grow(&mut second, 2 * FIRST_ROOM_BYTES),
                Err(RelayError::Busy { .. })
            ),
            "no room now: busy at once, not a wait"
        );
        assert!(matches!(
            budget.reserve().await,
            Err(RelayError::Busy { .. })
        ));
        drop(second);

        let answer = Bytes::from(vec![7u8; 3 * FIRST_ROOM_BYTES]);
        let mut body = HeldBody::body(answer.clone(), first);
        let mut received = Vec::new();
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            assert!(data.len() <= SLICE_BYTES);
            received.extend_from_slice(&data);
            let released = budget.room.available_permits() == units;
            assert_eq!(
                released,
                received.len() == answer.len(),
                "{}",
                received.len()
            );
        }
        assert_eq!(received, answer);
    }
}
