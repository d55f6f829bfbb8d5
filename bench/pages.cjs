// The walk bench/pages.sh runs: page loads through the roles, each timed by the browser
// (navigation start to the load event), and a resident's first load counted in bytes.
const { chromium } = require("playwright-core");

const base = process.argv[2];
const HS = "440804003001";
const c = `/c/${HS}`;
// Who walks where, and on what screen.
const walks = [
  ["resident", true, ["/", `${c}/tickets`, `${c}/tickets/new`, "/inbox", "/me", `/p/${HS}/needs`]],
  ["grid", true, ["/", `${c}/tickets?view=work`, `${c}/residents`, `${c}/households`, `${c}/field-notes`, `${c}/map`]],
  ["volunteer", true, [`${c}/volunteer`, `${c}/shop`, "/", "/inbox", `/p/${HS}/honor`]],
  ["staff", false, [`${c}/tickets?view=all`, `${c}/service-records`, `${c}/points`, `${c}/volunteers`, `${c}/needs`, `${c}/tickets/stats`]],
  ["secretary", false, [`${c}/users`, "/", `${c}/council`, `${c}/registrations`]],
  ["street", false, ["/", "STATS"]],
];
const LOADS = 150;

async function signIn(context, user) {
  const r = await context.request.post(`${base}/login`, { form: { username: user, password: "demo1234", next: "/" }, maxRedirects: 0 });
  if (r.status() !== 303) throw new Error(`sign-in of ${user}: ${r.status()}`);
}

function screen(phone) {
  return phone ? { viewport: { width: 360, height: 740 }, isMobile: true, deviceScaleFactor: 2 } : { viewport: { width: 1366, height: 900 } };
}

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });

  // A resident's home, first load: a new profile, signed in, nothing cached.
  {
    const context = await browser.newContext(screen(true));
    await signIn(context, "resident");
    const page = await context.newPage();
    await page.goto(`${base}/`, { waitUntil: "load" });
    const bytes = await page.evaluate(() =>
      performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).reduce((n, e) => n + e.transferSize, 0));
    console.log(`resident's home, first load: ${(bytes / 1024).toFixed(1)} KB transferred (target 150 KB)`);
    await context.close();
  }

  const times = [];
  const slowest = [];
  let w = 0;
  while (times.length < LOADS) {
    const [user, phone, paths] = walks[w++ % walks.length];
    const context = await browser.newContext(screen(phone));
    await signIn(context, user);
    const page = await context.newPage();
    for (let path of paths) {
      if (times.length >= LOADS) break;
      if (path === "STATS") {
        await page.goto(`${base}/`);
        const link = await page.$("a[href*='/subdistricts/'][href$='/tickets/stats']");
        path = link ? await link.getAttribute("href") : "/";
      }
      await page.goto(`${base}${path}`, { waitUntil: "load" });
      const ms = await page.evaluate(() => {
        const n = performance.getEntriesByType("navigation")[0];
        return n.loadEventEnd - n.startTime;
      });
      times.push(ms);
      slowest.push([ms, `${user} ${path}`]);
    }
    await context.close();
  }
  await browser.close();
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  console.log(`page loads: ${times.length}; median ${at(0.5).toFixed(0)} ms, p90 ${at(0.9).toFixed(0)} ms, slowest ${times[times.length - 1].toFixed(0)} ms (targets: median 150 ms, none over 1000 ms)`);
  slowest.sort((a, b) => b[0] - a[0]);
  console.log("slowest five: " + slowest.slice(0, 5).map(([ms, p]) => `${p} ${ms.toFixed(0)} ms`).join("; "));
})().catch((e) => { console.error(e); process.exit(1); });
