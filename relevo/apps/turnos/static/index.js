import * as ui from "/static/ui/ui.js";
import * as relevo from "/relevo.js";
const shell = ui.shell({ app: "Turnos", home: "/" });
relevo.indicator(shell.conn, relevo.connect());
ui.hydrateIcons();
