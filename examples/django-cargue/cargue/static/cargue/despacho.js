// The dispatcher page: subscribed to cargue:<grupo>; each check_update
// (published by the vendor's tick) updates its row at once.
import { relevo, rv } from "/static/relevo/django/client.js";

relevo.indicator(document.getElementById("conexion"), rv);

function aplicar({ linea, v, d }) {
  const fila = document.querySelector(`tr[data-linea="${linea}"]`);
  if (!fila) return;
  for (const [clase, valor] of [["v", v], ["d", d]]) {
    const celda = fila.querySelector(`.${clase}`);
    celda.classList.toggle("is-on", Boolean(valor));
    celda.textContent = valor ? "✓" : "—";
  }
  fila.classList.remove("flash");
  void fila.offsetWidth; // restart the highlight
  fila.classList.add("flash");
}

const sub = rv.subscribe(document.body.dataset.canal, (pub) => {
  if (pub.ev === "check_update") aplicar(pub.data);
}, {
  // relevo could not fill a gap from history: the page reloads its data.
  onReset: () => location.reload(),
});
await sub.ready;
window.__cargueReady = true;
