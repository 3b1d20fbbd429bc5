import { createRouter, createWebHistory } from 'vue-router'
import { loggedIn } from '../shared/api'

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue') },
    {
      path: '/',
      component: () => import('./ConsoleLayout.vue'),
      children: [
        { path: '', name: 'dashboard', component: () => import('./pages/DashboardPage.vue') },
        { path: 'sites', name: 'sites', component: () => import('./pages/SitesPage.vue') },
        { path: 'chargers', name: 'chargers', component: () => import('./pages/ChargersPage.vue') },
        { path: 'chargers/:id', name: 'charger', component: () => import('./pages/ChargerDetailPage.vue') },
        { path: 'tariffs', name: 'tariffs', component: () => import('./pages/TariffsPage.vue') },
        { path: 'tariffs/new', name: 'tariff-new', component: () => import('./pages/TariffEditPage.vue') },
        { path: 'tariffs/:id', name: 'tariff', component: () => import('./pages/TariffEditPage.vue') },
        { path: 'drivers', name: 'drivers', component: () => import('./pages/DriversPage.vue') },
        { path: 'tokens', name: 'tokens', component: () => import('./pages/TokensPage.vue') },
        { path: 'payments', name: 'payments', component: () => import('./pages/PaymentsPage.vue') },
        { path: 'roaming', name: 'roaming', component: () => import('./pages/RoamingPage.vue') },
        { path: 'ledger', name: 'ledger', component: () => import('./pages/LedgerPage.vue') },
        { path: 'staff', name: 'staff', component: () => import('./pages/StaffPage.vue') },
        { path: 'operators', name: 'operators', component: () => import('./pages/OperatorsPage.vue') },
        { path: 'sessions', name: 'sessions', component: () => import('./pages/SessionsPage.vue') },
        { path: 'sessions/:id', name: 'session', component: () => import('./pages/SessionDetailPage.vue') },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (to.name !== 'login' && !loggedIn('staff')) return { name: 'login', query: { next: to.fullPath } }
})
