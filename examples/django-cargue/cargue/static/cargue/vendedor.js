// The phone page: a tap on V saves it (the server publishes check_update).
const csrf = document.body.dataset.csrf;
const aviso = document.getElementById("aviso");

for (const boton of document.querySelectorAll(".tick")) {
  boton.addEventListener("click", async () => {
    const li = boton.closest("li");
    const v = boton.getAttribute("aria-pressed") !== "true";
    boton.disabled = true;
    try {
      const res = await fetch(`/api/lineas/${li.dataset.linea}/v`, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ v }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(body.mensaje || `Error ${res.status}`);
      boton.setAttribute("aria-pressed", String(body.v));
      aviso.textContent = "";
    } catch (err) {
      aviso.textContent = `No se guardó: ${err.message}`;
    } finally {
      boton.disabled = false;
    }
  });
}
window.__cargueReady = true;
