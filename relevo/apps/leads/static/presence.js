// How an asesor's availability reads on the GTR's screens. Who is online is
// the UI kit's Presence over each asesor's presencia:{id} channel (gtr.js).

export const AVAILABILITY = {
  disponible: ["En línea", "success"],
  ocupado: ["Ocupado", "warning"],
  ausente: ["Ausente", "neutral"],
};
