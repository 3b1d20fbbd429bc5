// Places on a plane: longitude and latitude projected as Web Mercator does, fitted into a box with a
// margin; places at one spot share a marker; a scale bar of a round distance. Coordinates are taken
// as given (GCJ-02 in China, as the sites and the chargers carry them).

export interface Place {
  id: string
  latitude: number
  longitude: number
}

/** A marker: the places at one spot, where it lies in the box. */
export interface Marker<T extends Place> {
  places: T[]
  x: number
  y: number
}

/** How the box maps the plane: pixels per radian, and the plane's point at the box's middle. */
export interface Projection {
  scale: number
  middleX: number
  middleY: number
}

export interface Fitted<T extends Place> {
  markers: Marker<T>[]
  projection: Projection | null
  /** A round distance and its length in the box, for a scale bar; null for a single spot. */
  scale: { metres: number; pixels: number } | null
}

const EARTH_RADIUS_M = 6_371_000
const mercatorY = (latitude: number) => Math.log(Math.tan(Math.PI / 4 + (Math.max(-85, Math.min(85, latitude)) * Math.PI) / 360))
const radians = (degrees: number) => (degrees * Math.PI) / 180
const ROUND = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]

/** Where each place lies in a `width` × `height` box, keeping the map's proportions. */
export function fit<T extends Place>(places: T[], width: number, height: number, margin = 24): Fitted<T> {
  if (places.length === 0) return { markers: [], projection: null, scale: null }
  const xs = places.map((p) => radians(p.longitude))
  const ys = places.map((p) => mercatorY(p.latitude))
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
  const spread = maxX > minX || maxY > minY
  // One spot: the middle of the box, at a scale that shows about a kilometre around it.
  const spanX = maxX - minX || 1e-4
  const spanY = maxY - minY || 1e-4
  const scale = Math.min((width - 2 * margin) / spanX, (height - 2 * margin) / spanY)
  const [middleX, middleY] = [(minX + maxX) / 2, (minY + maxY) / 2]
  const markers = new Map<string, Marker<T>>()
  places.forEach((place, i) => {
    const x = width / 2 + (xs[i] - middleX) * scale
    const y = height / 2 - (ys[i] - middleY) * scale
    const spot = `${Math.round(x)},${Math.round(y)}`
    const marker = markers.get(spot)
    if (marker) marker.places.push(place)
    else markers.set(spot, { places: [place], x, y })
  })
  const latitude = places.reduce((sum, p) => sum + p.latitude, 0) / places.length
  const metresPerPixel = (EARTH_RADIUS_M * Math.cos(radians(latitude))) / scale
  const metres = [...ROUND].reverse().find((m) => m / metresPerPixel <= width / 4)
  return {
    markers: [...markers.values()],
    projection: { scale, middleX, middleY },
    scale: spread && metres ? { metres, pixels: metres / metresPerPixel } : null,
  }
}

/** A map tile placed in the box. */
export interface Tile {
  href: string
  x: number
  y: number
  size: number
}

/** The Web Mercator tiles (URL `template` with {z}, {x}, {y}) that cover the box, at the zoom whose
 *  tiles are shown between their size and twice it. */
export function tiles(projection: Projection, width: number, height: number, template: string): Tile[] {
  const { scale, middleX, middleY } = projection
  const zoom = Math.max(0, Math.min(19, Math.floor(Math.log2((scale * 2 * Math.PI) / 256))))
  const count = 2 ** zoom
  const span = (2 * Math.PI) / count
  const column = (x: number) => Math.floor((x + Math.PI) / span)
  const row = (y: number) => Math.floor((Math.PI - y) / span)
  const [left, right] = [column(middleX - width / 2 / scale), column(middleX + width / 2 / scale)]
  const [top, bottom] = [row(middleY + height / 2 / scale), row(middleY - height / 2 / scale)]
  const placed: Tile[] = []
  for (let ty = Math.max(0, top); ty <= Math.min(count - 1, bottom); ty++) {
    for (let tx = Math.max(0, left); tx <= Math.min(count - 1, right); tx++) {
      placed.push({
        href: template.replace('{z}', String(zoom)).replace('{x}', String(tx)).replace('{y}', String(ty)),
        x: width / 2 + (tx * span - Math.PI - middleX) * scale,
        y: height / 2 - (Math.PI - ty * span - middleY) * scale,
        size: span * scale,
      })
    }
  }
  return placed
}
