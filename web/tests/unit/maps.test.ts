import { describe, expect, it } from 'vitest'
import { mapLinks } from '../../src/app/maps'

describe('navigating to a site', () => {
  it('hands each map app the coordinates as it reads them, the name escaped', () => {
    const links = Object.fromEntries(mapLinks({ name: '南山 P2 & 1', latitude: '22.531000', longitude: '113.934000' }).map((l) => [l.app, l.url]))
    expect(links.amap).toContain('position=113.934000,22.531000')
    expect(links.amap).toContain('coordinate=gaode')
    expect(links.baidu).toContain('location=22.531000,113.934000')
    expect(links.baidu).toContain('coord_type=gcj02')
    expect(links.apple).toContain('q=%E5%8D%97%E5%B1%B1%20P2%20%26%201')
    expect(links.google).toContain('query=22.531000,113.934000')
  })
})
