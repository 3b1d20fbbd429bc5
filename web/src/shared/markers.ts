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

export interface Fitted<T extends Place> {
  markers: Marker<T>[]
  /** A round distance and its length in the box, for a scale bar; null for a single spot. */
  scale: { metres: number; pixels: number } | null
}

const EARTH_RADIUS_M = 6_371_000
const mercatorY = (latitude: number) => Math.log(Math.tan(Math.PI / 4 + (Math.max(-85, Math.min(85, latitude)) * Math.PI) / 360))
const radians = (degrees: number) => (degrees * Math.PI) / 180
const ROUND = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]

/** Where each place lies in a `width` × `height` box, keeping the map's proportions. */
export function fit<T extends Place>(places: T[], width: number, height: number, margin = 24): Fitted<T> {
  if (places.length === 0) return { markers: [], scale: null }
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
    scale: spread && metres ? { metres, pixels: metres / metresPerPixel } : null,
  }
}
