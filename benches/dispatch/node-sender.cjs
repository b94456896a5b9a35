// The reference sender: npm web-push 3.6, as most Node services use it, sending the same
// messages to the same sink. Prints one JSON line with its figures.
'use strict';
const fs = require('fs');
const https = require('https');
const webpush = require(process.env.WEB_PUSH_MODULE);

const subscriptions = JSON.parse(fs.readFileSync(process.env.SUBSCRIPTIONS, 'utf8'));
const concurrency = Number(process.env.CONCURRENCY || 64);
// Keep-alive connections and the sink's certificate, so Node is not penalised for TLS setup.
const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: fs.readFileSync(process.env.CERT) });
const vapid = webpush.generateVAPIDKeys();
const payload = process.env.PAYLOAD;
const options = {
  TTL: 86400, urgency: 'normal', topic: 'campaign1', agent,
  vapidDetails: { subject: 'mailto:bench@tidings.example', publicKey: vapid.publicKey, privateKey: vapid.privateKey },
};

let next = 0, ok = 0, failed = 0;
async function worker() {
  while (next < subscriptions.length) {
    const subscription = subscriptions[next++];
    try {
      await webpush.sendNotification(subscription, payload, options);
      ok++;
    } catch (error) {
      if (failed++ < 3) console.error(String(error.message || error));
    }
  }
}

(async () => {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({ ok, failed, seconds, cpu_ms: (used.user + used.system) / 1000, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
  agent.destroy();
})();
