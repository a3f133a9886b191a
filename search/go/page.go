package main

// pageHTML is the page at /: a search box, results streaming in, a live
// count of files scanned and a Stop button. Stop aborts the fetch, which
// closes the connection: the server sees the hang-up, as when the tab closes.
const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>gochan-search (Go twin)</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;max-width:60em}
input{font:inherit;padding:.3em;width:18em}button{font:inherit;padding:.3em .8em}
#stat{margin:.8em 0;color:#444}#out{font:12px ui-monospace,monospace;white-space:pre-wrap}
.p{color:#06c}.e{color:#b00}
</style></head><body>
<h1>gochan-search <small>(Go twin)</small></h1>
<form id="f">
<input id="q" placeholder="content pattern (regexp)" autofocus>
<input id="name" placeholder="name glob, e.g. *.c">
<button id="go">Search</button> <button id="stop" type="button" disabled>Stop</button>
</form>
<div id="stat">idle</div><div id="out"></div>
<script>
let ctl = null;
const $ = id => document.getElementById(id);
function show(o) {
  const d = document.createElement('div');
  if (o.type === 'match') d.textContent = o.path + ':' + o.line + ': ' + o.text;
  else if (o.type === 'context') d.textContent = o.path + '-' + o.line + '- ' + o.text;
  else if (o.type === 'file_error') { d.textContent = o.path + ': not searched: ' + o.error; d.className = 'e'; }
  else d.textContent = o.path;
  $('out').appendChild(d);
}
$('f').onsubmit = async ev => {
  ev.preventDefault();
  if (ctl) ctl.abort();
  ctl = new AbortController();
  $('out').textContent = ''; $('stop').disabled = false;
  const u = new URLSearchParams();
  if ($('q').value) u.set('q', $('q').value);
  if ($('name').value) u.set('name', $('name').value);
  let n = 0, rest = '';
  try {
    const r = await fetch('/search?' + u, {signal: ctl.signal});
    if (!r.ok) { $('stat').textContent = 'error: ' + (await r.json()).error; return; }
    const rd = r.body.getReader(), dec = new TextDecoder();
    for (;;) {
      const {value, done} = await rd.read();
      if (done) break;
      const lines = (rest + dec.decode(value, {stream: true})).split('\n');
      rest = lines.pop();
      for (const l of lines) {
        if (!l) continue;
        const o = JSON.parse(l);
        if (o.type === 'progress') $('stat').textContent = 'scanning: ' + o.files + ' files, ' + o.bytes + ' bytes, ' + n + ' results';
        else if (o.type === 'done') $('stat').textContent = o.reason + ': ' + o.files + ' files, ' + o.matches + ' results, ' +
          o.skipped + ' skipped, ' + o.errors + ' errors, ' + o.elapsed_ms + ' ms' + (n > 2000 ? ' (' + (n - 2000) + ' lines not drawn)' : '');
        else if (o.type === 'file_error') show(o);
        else { n++; if (n <= 2000) show(o); }
      }
    }
  } catch (e) {
    $('stat').textContent = 'stopped (' + n + ' results)';
  } finally { $('stop').disabled = true; }
};
$('stop').onclick = () => { if (ctl) ctl.abort(); };
</script></body></html>
`
