// Personal data on shared screens (PIPL): phone numbers and names are masked wherever many people can read
// them (the wall display, public pages). The API already masks workers' names; free text a resident typed may
// still hold a phone number, so text shown on a wall goes through maskPhones.

// Mainland mobiles (11 digits from 1[3-9]), landlines with area code, and any other run of 7+ digits.
const MOBILE = /(?<!\d)(\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)/g;
const LANDLINE = /(?<!\d)(0\d{2,3})[ -]?(\d{3,4})[ -]?(\d{4})(?!\d)/g;
const LONG_DIGITS = /(?<!\d)(\d{2})\d{3,}(\d{2})(?!\d)/g;

export function maskPhones(text) {
  if (!text) { return ""; }
  return String(text)
    .replace(MOBILE, (all, cc, a, b, c) => (cc || "") + a + "****" + c)
    .replace(LANDLINE, (all, area, mid, last) => area + "-****" + last)
    .replace(LONG_DIGITS, (all, head, tail) => head + "*".repeat(all.length - 4) + tail);
}

// 张三 → 张*, 王小明 → 王*明 (the same rule as the server's command.assign.workers.mask_name).
export function maskName(name) {
  if (!name) { return ""; }
  const chars = Array.from(String(name));
  if (chars.length <= 1) { return "*"; }
  if (chars.length === 2) { return chars[0] + "*"; }
  return chars[0] + "*".repeat(chars.length - 2) + chars[chars.length - 1];
}

export function maskPhone(phone) {
  return maskPhones(phone);
}
