import { createRouter, createWebHistory } from 'vue-router'
import { loggedIn } from '../shared/api'

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue') },
    { path: '/', name: 'find', component: () => import('./pages/FindPage.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (to.name !== 'login' && !loggedIn('driver')) return { name: 'login', query: { next: to.fullPath } }
})
