import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router'
import { i18n, savedLocale } from '../shared/i18n'
import '../shared/base.css'
import './theme.css'
import './page.css'
// Messages are called, not written in templates, so their style is imported here.
import 'element-plus/es/components/message/style/css'

document.documentElement.lang = savedLocale()
createApp(App).use(i18n).use(router).mount('#console')
