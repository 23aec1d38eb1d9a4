// streamgan live: send the camera, show it back processed, and show live stats.
// Plain JS, no build step. Element ids are stable for browser tests.
"use strict";

const $ = (id) => document.getElementById(id);
let pc = null;
let localStream = null;
let peerId = null;
let statsTimer = null;
let last = null; // previous getStats sample, for rates

function showError(message) { $("error").textContent = message || ""; }

async function listCameras() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const select = $("camera");
  const chosen = select.value;
  select.innerHTML = "";
  devices.filter((d) => d.kind === "videoinput").forEach((d, i) => {
    const option = new Option(d.label || `camera ${i + 1}`, d.deviceId);
    select.add(option);
  });
  if (chosen) select.value = chosen;
}

function fill(id, names) {
  const select = $(id);
  select.innerHTML = "";
  names.forEach((name) => select.add(new Option(name, name)));
}

function showChoices() {
  $("target").disabled = $("filter").value !== "reenact";
  $("style").disabled = $("filter").value !== "style";
}

async function listTargets() {
  const response = await fetch("/targets");
  const { targets, styles = [] } = await response.json();
  fill("target", targets);
  fill("style", styles);
  $("filter").querySelector('option[value="reenact"]').disabled = !targets.length;
  $("filter").querySelector('option[value="style"]').disabled = !styles.length;
  if (!targets.length) $("filter").value = styles.length ? "style" : "none";
  showChoices();
}

function waitForIceGathering(connection) {
  if (connection.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (connection.iceGatheringState === "complete") {
        connection.removeEventListener("icegatheringstatechange", check);
        resolve();
      }
    };
    connection.addEventListener("icegatheringstatechange", check);
    setTimeout(resolve, 2000); // loopback needs no STUN; do not wait forever
  });
}

async function start() {
  showError("");
  await stop();
  const [width, height] = $("resolution").value.split("x").map(Number);
  const video = { width: { ideal: width }, height: { ideal: height } };
  if ($("camera").value) video.deviceId = { exact: $("camera").value };
  localStream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
  $("local").srcObject = localStream;
  await listCameras(); // labels are known once permission is given

  pc = new RTCPeerConnection({ iceServers: [] });
  pc.addEventListener("track", (event) => {
    if (event.track.kind === "video") $("remote").srcObject = event.streams[0]
      || new MediaStream([event.track]);
  });
  pc.addEventListener("connectionstatechange", () => {
    $("stat-state").textContent = pc ? pc.connectionState : "idle";
  });
  localStream.getTracks().forEach((track) => pc.addTrack(track, localStream));
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIceGathering(pc);

  const body = { sdp: pc.localDescription.sdp, type: pc.localDescription.type,
                 filter: $("filter").value };
  if (body.filter === "reenact") body.target = $("target").value;
  if (body.filter === "style") body.style = $("style").value;
  const response = await fetch("/offer", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || `offer refused (${response.status})`);
  peerId = answer.peer;
  await pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
  $("start").disabled = true;
  $("stop").disabled = false;
  statsTimer = setInterval(updateStats, 1000);
}

async function stop() {
  clearInterval(statsTimer);
  statsTimer = null;
  last = null;
  if (pc) { pc.close(); pc = null; }
  if (localStream) { localStream.getTracks().forEach((t) => t.stop()); localStream = null; }
  $("local").srcObject = null;
  $("remote").srcObject = null;
  peerId = null;
  $("start").disabled = false;
  $("stop").disabled = true;
  $("stat-state").textContent = "idle";
}

async function updateStats() {
  if (!pc) return;
  const report = await pc.getStats();
  let inbound = null;
  let rtt = null;
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && s.kind === "video") inbound = s;
    if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime !== undefined) {
      rtt = s.currentRoundTripTime;
    }
  });
  let server = null;
  if (peerId) {
    const response = await fetch(`/stats?peer=${encodeURIComponent(peerId)}`);
    if (response.ok) server = await response.json();
  }
  if (inbound) {
    const now = { t: inbound.timestamp, decoded: inbound.framesDecoded || 0,
                  delay: inbound.jitterBufferDelay || 0,
                  emitted: inbound.jitterBufferEmittedCount || 0 };
    if (last) {
      const seconds = (now.t - last.t) / 1000;
      const fps = seconds > 0 ? (now.decoded - last.decoded) / seconds : 0;
      $("stat-fps").textContent = fps.toFixed(1);
      const emitted = now.emitted - last.emitted;
      const jitterMs = emitted > 0 ? ((now.delay - last.delay) / emitted) * 1000 : 0;
      const serverMs = server ? server.wait_ms + server.process_ms : 0;
      const latency = (rtt || 0) * 1000 + serverMs + jitterMs;
      $("stat-latency").textContent = latency.toFixed(0);
    }
    last = now;
  }
  if (server) {
    $("stat-dropped").textContent = String(server.frames_dropped);
    $("stat-faceless").textContent = String(server.frames_without_face);
    $("stat-process").textContent = server.process_ms.toFixed(1);
  }
}

$("start").addEventListener("click", () => start().catch((e) => { showError(e.message); stop(); }));
$("stop").addEventListener("click", () => stop());
$("filter").addEventListener("change", () => {
  showChoices();
  if (pc) start().catch((e) => { showError(e.message); stop(); }); // reconnect with it
});
["target", "style"].forEach((id) => $(id).addEventListener("change", () => {
  if (pc) start().catch((e) => { showError(e.message); stop(); });
}));
listTargets().catch((e) => showError(`cannot list targets: ${e.message}`));
if (navigator.mediaDevices) listCameras().catch(() => {});
else showError("no camera access here: open the page on http://localhost or over https");
