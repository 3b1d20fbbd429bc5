// "Navigate": the phone's map apps, each given the site's GCJ-02 coordinates as it expects them
// (AMap and Baidu take GCJ-02 when told; Apple Maps in China uses GCJ-02; Google's link is for
// elsewhere).

export interface Place {
  name: string
  latitude: string
  longitude: string
}

export function mapLinks(place: Place): { app: string; url: string }[] {
  const name = encodeURIComponent(place.name)
  const { latitude: lat, longitude: lon } = place
  return [
    { app: 'amap', url: `https://uri.amap.com/marker?position=${lon},${lat}&name=${name}&coordinate=gaode&callnative=1` },
    { app: 'baidu', url: `https://api.map.baidu.com/marker?location=${lat},${lon}&title=${name}&content=${name}&coord_type=gcj02&output=html&src=chargemesh` },
    { app: 'apple', url: `https://maps.apple.com/?ll=${lat},${lon}&q=${name}` },
    { app: 'google', url: `https://www.google.com/maps/search/?api=1&query=${lat},${lon}` },
  ]
}
