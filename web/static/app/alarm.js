// The audible alarm of the command centre: Web Audio oscillators, no sound files. Browsers start audio only
// after a user gesture, so the page shows a "click to enable sound" control until `enable()` ran from a click.
// An alarm rings once and, while unacknowledged, again every `repeatMs`; `acknowledge()` stops the repeats,
// `setMuted(true)` silences everything (kept in localStorage).
//
// window.gridcmd.alarm exposes counters for tests and diagnostics: raised (alarms raised), played (tone
// sequences actually started on a running AudioContext).

const MUTE_KEY = "gridcmd.alarm.muted";

// Two-tone patterns: [frequency Hz, seconds] steps.
const PATTERNS = {
  urgent: [[988, 0.16], [0, 0.05], [740, 0.16], [0, 0.05], [988, 0.16], [0, 0.05], [740, 0.22]],
  normal: [[880, 0.14], [0, 0.08], [660, 0.2]],
};

export function createAlarm({ repeatMs = 8000, onChange = () => {} } = {}) {
  let ctx = null;
  let muted = window.localStorage.getItem(MUTE_KEY) === "1";
  let pending = 0;        // unacknowledged alarms
  let level = "normal";   // the most urgent pending level
  let timer = null;
  const counters = { raised: 0, played: 0, acknowledged: 0 };

  const state = () => ({ enabled: !!ctx && ctx.state === "running", muted, pending, ...counters });

  function play(pattern) {
    if (!ctx || muted || ctx.state !== "running") { return false; }
    let at = ctx.currentTime + 0.02;
    const gain = ctx.createGain();
    gain.connect(ctx.destination);
    gain.gain.setValueAtTime(0.0001, at);
    for (const [freq, secs] of PATTERNS[pattern]) {
      if (freq > 0) {
        const osc = ctx.createOscillator();
        osc.type = "square";
        osc.frequency.setValueAtTime(freq, at);
        osc.connect(gain);
        gain.gain.setValueAtTime(0.0001, at);
        gain.gain.exponentialRampToValueAtTime(0.25, at + 0.01);
        gain.gain.setValueAtTime(0.25, at + secs - 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, at + secs);
        osc.start(at);
        osc.stop(at + secs);
      }
      at += secs;
    }
    counters.played += 1;
    return true;
  }

  function schedule() {
    window.clearInterval(timer);
    timer = pending > 0 ? window.setInterval(() => play(level), repeatMs) : null;
  }

  const alarm = {
    // From a click handler: creates/resumes the AudioContext (allowed only after a user gesture).
    async enable() {
      if (!ctx) { ctx = new (window.AudioContext || window.webkitAudioContext)(); }
      if (ctx.state !== "running") { await ctx.resume(); }
      ctx.onstatechange = () => onChange(state());
      onChange(state());
      return ctx.state === "running";
    },
    raise(urgent) {
      counters.raised += 1;
      pending += 1;
      if (urgent) { level = "urgent"; }
      play(urgent ? "urgent" : "normal");
      schedule();
      onChange(state());
    },
    acknowledge() {
      if (pending > 0) { counters.acknowledged += pending; }
      pending = 0;
      level = "normal";
      schedule();
      onChange(state());
    },
    setMuted(on) {
      muted = !!on;
      window.localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
      onChange(state());
    },
    get state() { return state(); },
  };
  window.gridcmd = window.gridcmd || {};
  window.gridcmd.alarm = counters;
  return alarm;
}
