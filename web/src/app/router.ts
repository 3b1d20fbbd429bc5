import { createRouter, createWebHistory } from 'vue-router'
import { loggedIn } from '../shared/api'

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue') },
    {
      path: '/',
      component: () => import('./AppLayout.vue'),
      children: [
        { path: '', name: 'find', component: () => import('./pages/FindPage.vue') },
        { path: 'charges', name: 'charges', component: () => import('./pages/ChargesPage.vue') },
      ],
    },
    { path: '/charger/:operator/:evse', name: 'charger', component: () => import('./pages/ChargerPage.vue') },
    { path: '/charges/:id', name: 'charge', component: () => import('./pages/ChargePage.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (to.name !== 'login' && !loggedIn('driver')) return { name: 'login', query: { next: to.fullPath } }
})
