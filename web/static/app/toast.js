// A short message in the page's toast element (role="status"), hidden again after a while; a newer message
// replaces the one shown. Each page keeps its own element, look and timing.
//
//   const toast = toaster($("#toast"), { ms: 3500, errorMs: 7000 });  toast("已派单");  toast(e.message, true);

export function toaster(el, { ms = 4000, errorMs = ms } = {}) {
  let timer = null;
  return (message, isError = false) => {
    el.textContent = message;
    el.classList.toggle("error", isError);
    el.hidden = false;
    window.clearTimeout(timer);
    timer = window.setTimeout(() => { el.hidden = true; }, isError ? errorMs : ms);
  };
}
