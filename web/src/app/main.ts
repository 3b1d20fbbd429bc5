import { createApp } from 'vue'
import App from './App.vue'
import { router } from './router'
import { i18n, savedLocale } from '../shared/i18n'
import '../shared/base.css'
import './theme.css'

document.documentElement.lang = savedLocale()
createApp(App).use(i18n).use(router).mount('#app')
