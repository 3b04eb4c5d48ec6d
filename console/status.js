// The one line at the bottom that says what just happened (a polite live
// region, so screen readers hear it too).

let timer = null;

export function say(text, tone = 'info') {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = `status ${tone}`;
  clearTimeout(timer);
  if (tone !== 'error') timer = setTimeout(() => { status.textContent = ''; status.className = 'status'; }, 6000);
}
