// Shared by every console page: times in the reader's own zone and language.
const lang = document.querySelector('meta[name="lang"]')?.content || 'en';
const format = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
for (const time of document.querySelectorAll('time[datetime]')) {
  const at = new Date(time.getAttribute('datetime'));
  if (!Number.isNaN(at.getTime())) time.textContent = format.format(at);
}
