import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router'
import { i18n, savedLocale } from '../shared/i18n'
import '../shared/base.css'
import './theme.css'
import './page.css'
// Messages and confirmations are called, not written in templates, so their styles are imported here.
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'

document.documentElement.lang = savedLocale()
createApp(App).use(i18n).use(router).mount('#console')
