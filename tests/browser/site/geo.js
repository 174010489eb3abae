navigator.geolocation.getCurrentPosition(
  (position) => { document.documentElement.dataset.geo = "allowed"; },
  (error) => { document.documentElement.dataset.geo = "denied:" + error.code; },
  { timeout: 3000 }
);
