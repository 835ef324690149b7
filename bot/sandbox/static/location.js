// The location picker: preset places, a click on the dot map of Europe (europe.svg, drawn
// offline by bot/sandbox/europe_map.py), or typed coordinates.

export const PRESETS = [
  { name: "Sofia", country: "BG", latitude: 42.6977, longitude: 23.3219 },
  { name: "Sveti Vlas", country: "BG", latitude: 42.7133, longitude: 27.7588 },
  { name: "Saint-Dié-des-Vosges", country: "FR", latitude: 48.2849, longitude: 6.9492 },
  { name: "Graz", country: "AT", latitude: 47.0707, longitude: 15.4395 },
  { name: "Ljubljana", country: "SI", latitude: 46.0569, longitude: 14.5058 },
  { name: "Skopje", country: "MK", latitude: 41.9981, longitude: 21.4254 },
  { name: "Tartu", country: "EE", latitude: 58.3776, longitude: 26.7290 },
  { name: "Liège", country: "BE", latitude: 50.6326, longitude: 5.5797 },
  { name: "Kraków", country: "PL", latitude: 50.0647, longitude: 19.9450 },
  { name: "Porto", country: "PT", latitude: 41.1579, longitude: -8.6291 },
];

// The map's projection, read from the SVG's data-* attributes (see europe_map.py).
const MAP = { west: -25, east: 45, south: 34, north: 71.5 };

export function placeName(latitude, longitude) {
  const near = PRESETS.find((p) => Math.abs(p.latitude - latitude) < 0.05 && Math.abs(p.longitude - longitude) < 0.05);
  return near ? near.name : null;
}

function toMap(latitude, longitude) {
  return {
    x: (longitude - MAP.west) / (MAP.east - MAP.west),
    y: (MAP.north - latitude) / (MAP.north - MAP.south),
  };
}

function fromMap(x, y) {
  return {
    latitude: +(MAP.north - y * (MAP.north - MAP.south)).toFixed(4),
    longitude: +(MAP.west + x * (MAP.east - MAP.west)).toFixed(4),
  };
}

// Wire the dialog; `open(send)` shows it and calls send({latitude, longitude}) on "Send".
export function locationPicker() {
  const dialog = document.getElementById("location-dialog");
  const lat = document.getElementById("latitude");
  const lon = document.getElementById("longitude");
  const map = document.getElementById("map");
  const pin = document.getElementById("map-pin");
  const presets = document.getElementById("presets");
  let onSend = null;

  const show = (latitude, longitude) => {
    lat.value = latitude;
    lon.value = longitude;
    const { x, y } = toMap(latitude, longitude);
    pin.hidden = !(x >= 0 && x <= 1 && y >= 0 && y <= 1);
    pin.style.left = `${x * 100}%`;
    pin.style.top = `${y * 100}%`;
  };

  for (const place of PRESETS) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "preset";
    button.textContent = place.name;
    button.dataset.place = place.name;
    button.addEventListener("click", () => show(place.latitude, place.longitude));
    presets.appendChild(button);
  }
  map.addEventListener("click", (event) => {
    const box = map.getBoundingClientRect();
    const { latitude, longitude } = fromMap((event.clientX - box.left) / box.width,
      (event.clientY - box.top) / box.height);
    show(latitude, longitude);
  });
  lat.addEventListener("input", () => lon.value && show(+lat.value, +lon.value));
  lon.addEventListener("input", () => lat.value && show(+lat.value, +lon.value));
  document.getElementById("location-cancel").addEventListener("click", () => dialog.close());
  document.getElementById("location-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!lat.reportValidity() || !lon.reportValidity()) return;
    dialog.close();
    onSend?.({ latitude: Number(lat.value), longitude: Number(lon.value) });
  });
  fetch("/chat/europe.svg").then((r) => r.text()).then((svg) => {
    // The SVG states its own bounds; keep in step if it is ever redrawn differently.
    const data = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement.dataset;
    for (const key of Object.keys(MAP)) if (data[key] !== undefined) MAP[key] = Number(data[key]);
  }).catch(() => {});

  return {
    open(send) {
      onSend = send;
      pin.hidden = true;
      lat.value = "";
      lon.value = "";
      dialog.showModal();
    },
  };
}
