import { describe, expect, it } from 'vitest'
import { fit, tiles } from '../../src/shared/markers'

describe('places on the map', () => {
  const shenzhen = [
    { id: 'futian', latitude: 22.541, longitude: 114.055 },
    { id: 'nanshan', latitude: 22.531, longitude: 113.934 },
    { id: 'luohu', latitude: 22.548, longitude: 114.131 },
  ]

  it('keep east to the right and north up, inside the box', () => {
    const { markers } = fit(shenzhen, 640, 400)
    const at = Object.fromEntries(markers.map((m) => [m.places[0].id, m]))
    expect(at.nanshan.x).toBeLessThan(at.futian.x)
    expect(at.futian.x).toBeLessThan(at.luohu.x)
    expect(at.luohu.y).toBeLessThan(at.nanshan.y)
    for (const m of markers) {
      expect(m.x).toBeGreaterThanOrEqual(23.999)
      expect(m.x).toBeLessThanOrEqual(616.001)
      expect(m.y).toBeGreaterThanOrEqual(0)
      expect(m.y).toBeLessThanOrEqual(400)
    }
  })

  it('measure with a round distance: Nanshan to Luohu is about 20 km across 592 px', () => {
    const { scale } = fit(shenzhen, 640, 400)
    expect(scale?.metres).toBe(5000)
    // 5 km of about 20.2 km (the span) over 592 px.
    expect(scale!.pixels).toBeGreaterThan(140)
    expect(scale!.pixels).toBeLessThan(150)
  })

  it('share one marker for places at one spot, in the middle, without a scale', () => {
    const twin = fit(
      [
        { id: 'a', latitude: 22.5, longitude: 114 },
        { id: 'b', latitude: 22.5, longitude: 114 },
      ],
      640,
      400,
    )
    expect(twin.markers.map((m) => [m.places.map((p) => p.id), m.x, m.y])).toEqual([[['a', 'b'], 320, 200]])
    expect(twin.scale).toBeNull()
    expect(fit([], 640, 400)).toEqual({ markers: [], projection: null, scale: null })
  })

  it('lie on the tiles that cover the box, each place on the tile that holds it', () => {
    const { markers, projection } = fit(shenzhen, 640, 400)
    const laid = tiles(projection!, 640, 400, 'https://tiles.example/{z}/{x}/{y}.png')
    expect(laid.length).toBeGreaterThan(0)
    const size = laid[0].size
    expect(size).toBeGreaterThanOrEqual(256)
    expect(size).toBeLessThan(512)
    // Futian (114.055, 22.541) lies in tile x = floor((114.055 + 180) / 360 * 2^z), y by Mercator.
    const zoom = Number(laid[0].href.split('/')[3])
    const count = 2 ** zoom
    const x = Math.floor(((114.055 + 180) / 360) * count)
    const rad = (22.541 * Math.PI) / 180
    const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * count)
    const tile = laid.find((t) => t.href.endsWith(`/${zoom}/${x}/${y}.png`))!
    const futian = markers.find((m) => m.places[0].id === 'futian')!
    expect(futian.x).toBeGreaterThanOrEqual(tile.x)
    expect(futian.x).toBeLessThan(tile.x + tile.size)
    expect(futian.y).toBeGreaterThanOrEqual(tile.y)
    expect(futian.y).toBeLessThan(tile.y + tile.size)
  })
})
