// The labelling page's audio player for classification projects: the waveform/spectrogram picture in a box of
// fixed shape from the start (the labels below never move when it arrives), a playhead on it, click to seek,
// and keys: Space plays or pauses, comma replays from the start, the arrows seek 5 s.
// label.js calls show(slot, url) for each item and key(event, key) for each key it does not take itself.

const SEEK_SECONDS = 5;
// What the picture covers (annotation.waveform.render_audio_png: the first 60 s, 800 x 240 pixels).
const PICTURE_SECONDS = 60;
const PICTURE_WIDTH = 800;
const PICTURE_HEIGHT = 240;

class AudioPlayer {
  constructor(slot, url) {
    const box = document.createElement("div");
    box.className = "waveform-box";
    box.id = "waveform-box";
    const wait = document.createElement("p");
    wait.className = "waveform-wait muted small";
    wait.textContent = "Drawing the waveform…";
    const wave = document.createElement("img");
    wave.src = `${url}waveform.png`;
    wave.alt = "waveform (top) and spectrogram (bottom, low pitches at the bottom)";
    wave.className = "waveform";
    wave.width = PICTURE_WIDTH;
    wave.height = PICTURE_HEIGHT;
    wave.addEventListener("load", () => { wait.hidden = true; });
    wave.addEventListener("error", () => { wait.textContent = "No waveform for this clip."; });
    this.playhead = document.createElement("div");
    this.playhead.className = "playhead";
    this.playhead.hidden = true;
    box.append(wait, wave, this.playhead);

    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "auto";
    audio.src = url;
    audio.id = "item-audio";
    audio.title = `Space plays or pauses, comma restarts, arrow keys seek ${SEEK_SECONDS} s`;
    slot.append(box, audio);
    this.audio = audio;
    this.box = box;

    const drawn = () => Math.min(audio.duration || 0, PICTURE_SECONDS);
    const follow = () => {
      const span = drawn();
      const at = audio.currentTime;
      this.playhead.hidden = !span || at > span;
      if (span) this.playhead.style.left = `${(100 * Math.min(at, span)) / span}%`;
    };
    for (const name of ["timeupdate", "seeked", "loadedmetadata"]) audio.addEventListener(name, follow);
    // A click on the picture seeks to the time under the pointer.
    box.addEventListener("click", (event) => {
      const span = drawn();
      if (!span) return;
      const rect = box.getBoundingClientRect();
      audio.currentTime = (span * (event.clientX - rect.left)) / rect.width;
    });
  }

  key(event, key) {
    const audio = this.audio;
    if (key === " ") { event.preventDefault(); if (audio.paused) audio.play(); else audio.pause(); return true; }
    if (key === ",") { audio.currentTime = 0; audio.play(); return true; }
    if (key === "arrowleft" || key === "arrowright") {
      event.preventDefault();
      const to = audio.currentTime + (key === "arrowleft" ? -SEEK_SECONDS : SEEK_SECONDS);
      audio.currentTime = Math.max(0, Number.isFinite(audio.duration) ? Math.min(audio.duration, to) : to);
      return true;
    }
    return false;
  }
}

export function show(slot, url) {
  return new AudioPlayer(slot, url);
}
