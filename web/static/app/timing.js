// Folding bursts of work: events arrive in bursts (an order accepted moves the incident too), and redrawing a
// map, refetching a list or locating a typed point once per burst is enough.

// fn at most once per `ms`: the first call starts the wait, calls during it fold into the one run at its end.
// For redraws that must keep up with a steady stream (the maps' incident layers).
export function throttle(fn, ms) {
  let timer = null;
  return () => {
    if (timer) { return; }
    timer = window.setTimeout(() => { timer = null; fn(); }, ms);
  };
}

// fn once things have been quiet for `ms`: every call restarts the wait. For refetches after a burst.
export function debounce(fn, ms) {
  let timer = null;
  return () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(fn, ms);
  };
}

// fn once, right after the code running now (a microtask), however often it was asked for meanwhile: a list
// redrawn once per batch of events, before the next frame (a busy map frame must not hold the list back).
export function batched(fn) {
  let queued = false;
  return () => {
    if (queued) { return; }
    queued = true;
    queueMicrotask(() => { queued = false; fn(); });
  };
}
