// Two single-page applications from one project: the operators' console (index.html, served at /)
// and the drivers' app (app/index.html, served at /app/). Element Plus and Vant components are
// imported where templates use them, so each page loads only its own.
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import { VantResolver } from '@vant/auto-import-resolver'

export default defineConfig({
  plugins: [
    vue(),
    Components({ dts: false, resolvers: [ElementPlusResolver({ importStyle: 'css' }), VantResolver()] }),
  ],
  build: {
    outDir: process.env.CHARGEMESH_WEB_OUT ?? 'dist',
    emptyOutDir: true,
    reportCompressedSize: false,
    rollupOptions: {
      input: { console: 'index.html', app: 'app/index.html' },
    },
  },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
  test: { include: ['tests/unit/**/*.test.ts'] },
})
